from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Queue(models.Model):
    """A stream of items reviewed against one rubric by its members."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    rubric = models.ForeignKey("rubrics.Rubric", on_delete=models.PROTECT, related_name="queues")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="QueueMembership", related_name="queues", blank=True
    )
    reviews_per_item = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="How many different reviewers judge each item.",
    )
    lease_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="How long a claimed item stays reserved for its reviewer, in minutes.",
    )
    blind = models.BooleanField(default=True, help_text="Reviewers never see others' reviews of the same item.")
    sampling_rate = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of matching ingested items routed to this queue, from 0 to 1.",
    )
    routing_rules = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_workspace", "Can create queues and rubrics and trigger exports")]

    def __str__(self) -> str:
        return self.name


class QueueMembership(models.Model):
    class Role(models.TextChoices):
        REVIEWER = "reviewer", "Reviewer"
        LEAD = "lead", "Lead"
        MANAGER = "manager", "Manager"

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="membership_queue_user_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.queue} as {self.role}"


class ReviewItem(models.Model):
    """One AI reply under review, with the conversation that led to it.

    ``conversation`` holds the messages before the reply (OpenAI-style
    ``role``/``content``, with ``tool_calls`` and tool turns), ``response`` is
    the assistant message under review and ``reference_response`` an optional
    second reply (a human-preferred one, or a second candidate).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_REVIEW = "in_review", "In review"
        REVIEWED = "reviewed", "Reviewed"
        ADJUDICATION = "adjudication", "Adjudication"
        DONE = "done", "Done"

    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="items")
    source = models.CharField(max_length=100)
    external_id = models.CharField(max_length=200)
    conversation = models.JSONField(default=list)
    response = models.JSONField()
    reference_response = models.JSONField(null=True, blank=True)
    tools = models.JSONField(null=True, blank=True)
    model = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    priority = models.IntegerField(default=0)
    active_assignments = models.PositiveSmallIntegerField(
        default=0, help_text="Claimed or submitted assignments, kept in step by the claim service."
    )
    final_review = models.OneToOneField(
        "Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The review that exports use: the only one, an agreed one, or a lead's decision.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="item_source_external_id_unique"),
        ]
        indexes = [models.Index(fields=["queue", "state", "priority", "id"], name="item_claim_idx")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def response_text(self) -> str:
        return self.response.get("content") or ""


class Assignment(models.Model):
    """An item reserved for one reviewer until ``expires_at`` (a lease)."""

    class State(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        SUBMITTED = "submitted", "Submitted"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    state = models.CharField(max_length=16, choices=State.choices, default=State.CLAIMED)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            # One live slot per reviewer and item: never two claims or two reviews by the same person.
            models.UniqueConstraint(
                fields=["item", "reviewer"],
                condition=Q(state__in=["claimed", "submitted"]),
                name="assignment_one_live_per_reviewer",
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="assignment_lease_idx")]

    def __str__(self) -> str:
        return f"{self.item} → {self.reviewer} ({self.state})"


class Review(models.Model):
    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        NEEDS_FIX = "needs_fix", "Needs fix"
        REJECTED = "rejected", "Rejected"

    class Kind(models.TextChoices):
        REVIEW = "review", "Review"
        ADJUDICATION = "adjudication", "Adjudication"

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reviews")
    assignment = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="review"
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rubric = models.ForeignKey("rubrics.Rubric", on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REVIEW)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    scores = models.JSONField(default=dict, blank=True)
    corrected_response = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    time_spent_seconds = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(verdict="needs_fix") | ~Q(corrected_response=""),
                name="review_needs_fix_has_rewrite",
            ),
            models.CheckConstraint(
                condition=~Q(verdict="rejected") | ~Q(reason=""),
                name="review_rejected_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["submitted_at"], name="review_submitted_idx")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.item_id} by {self.reviewer}"

    def clean(self) -> None:
        if self.verdict == self.Verdict.NEEDS_FIX:
            if not self.corrected_response.strip():
                raise ValidationError({"corrected_response": "A needs_fix verdict requires the corrected response."})
            original = (self.item.response.get("content") or "") if self.item_id else ""
            if self.corrected_response.strip() == original.strip():
                raise ValidationError(
                    {"corrected_response": "The corrected response is the same as the original; edit it, or approve."}
                )
        if self.verdict == self.Verdict.REJECTED and not self.reason.strip():
            raise ValidationError({"reason": "A rejected verdict requires a reason."})
