from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .routing import routing_rules_check

# The largest overlap a queue may ask for; Assignment.slot is bounded by it too.
MAX_REVIEWS_PER_ITEM = 10


class Queue(models.Model):
    """A stream of items reviewed against one rubric by its members."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    rubric = models.ForeignKey("rubrics.Rubric", on_delete=models.PROTECT, related_name="queues")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="QueueMembership", related_name="queues", blank=True
    )
    reviews_per_item = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEWS_PER_ITEM)],
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
    disagreement_threshold = models.FloatField(
        default=0.2, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=(
            "How far apart two needs_fix rewrites may be before the item goes to adjudication: "
            "a word-level distance from 0 (same words) to 1 (nothing in common)."
        ),
    )
    edit_window_minutes = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="How long after submitting a reviewer may revise their review, in minutes; 0 turns revisions off.",
    )
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

    def clean(self) -> None:
        routing_rules_check(self.routing_rules)


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

    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="items",
        help_text="Empty for an item sent without a queue that no queue's routing rules took; nobody reviews it.",
    )
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
    turn_selectable = models.BooleanField(
        default=False,
        help_text="The reviewer picks which assistant turn of the conversation, or the reply, is under review.",
    )
    is_pairwise = models.BooleanField(
        default=False,
        help_text="The reviewer compares two candidates: the response (A) and the reference response (B).",
    )
    active_assignments = models.PositiveSmallIntegerField(
        default=0, help_text="Live (reserved, claimed or submitted) assignments, kept in step by the services."
    )
    # Gold fields are for managers only: no reviewer payload may include them.
    is_gold = models.BooleanField(default=False, help_text="The item has a known answer that reviewers are scored against.")
    gold_verdict = models.CharField(max_length=16, blank=True, help_text="The known verdict of a gold item.")
    gold_corrected_response = models.TextField(blank=True, help_text="The known rewrite of a gold needs_fix item.")
    gold_preferred = models.CharField(max_length=1, blank=True, help_text="The known better candidate of a pairwise gold item.")
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
            models.CheckConstraint(
                condition=Q(is_gold=False) | Q(gold_verdict__in=["approved", "needs_fix", "rejected"]),
                name="item_gold_has_verdict",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "state", "priority", "id"], name="item_claim_idx"),
            # The claim's candidate scan: only open items, already in claim order, so
            # the next item is found without sorting the queue.
            models.Index(
                "queue", models.F("priority").desc(), "id",
                condition=Q(state__in=["pending", "in_review"]), name="item_claim_pool_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def response_text(self) -> str:
        return self.response.get("content") or ""

    def clean(self) -> None:
        if self.is_pairwise and not self.reference_response:
            raise ValidationError(
                {"is_pairwise": "A pairwise item needs a reference_response as its second candidate (B)."}
            )
        if self.is_pairwise and self.turn_selectable:
            raise ValidationError({"turn_selectable": "A pairwise item compares two replies; it cannot also select a turn."})

    @property
    def transcript(self) -> list[dict]:
        """The whole conversation with the reply under review as its last message."""
        return [*self.conversation, self.response]

    def reply_under_review(self, *, turn_index: int | None = None, preferred: str = "") -> dict:
        """Return the assistant message a review judges: a chosen turn, a pairwise candidate, or the response."""
        if preferred == "b" and self.reference_response:
            return self.reference_response
        if turn_index is not None and 0 <= turn_index < len(self.transcript):
            return self.transcript[turn_index]
        return self.response


# Assignment states that hold one of an item's ``reviews_per_item`` slots.
LIVE_ASSIGNMENT_STATES = ("reserved", "claimed", "submitted")


class Assignment(models.Model):
    """One of an item's review slots, held by one reviewer.

    A manager's per-item assignment starts ``reserved`` (no lease yet); a
    claim turns it, or a free slot, into ``claimed`` until ``expires_at``.
    An item has at most ``reviews_per_item`` live assignments: each takes a
    ``slot`` from 1 to that number, and the database keeps slots unique per
    item among live assignments.
    """

    class State(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        CLAIMED = "claimed", "Claimed"
        SUBMITTED = "submitted", "Submitted"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"
        SUPERSEDED = "superseded", "Superseded by a re-review"

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    state = models.CharField(max_length=16, choices=State.choices, default=State.CLAIMED)
    slot = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEWS_PER_ITEM)],
        help_text="Which of the item's reviews_per_item places this assignment takes, from 1.",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The manager who reserved the item for this reviewer; empty for a claim from the pool.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            # One live slot per reviewer and item: never two claims or two reviews by the same person.
            models.UniqueConstraint(
                fields=["item", "reviewer"],
                condition=Q(state__in=LIVE_ASSIGNMENT_STATES),
                name="assignment_one_live_per_reviewer",
            ),
            # Two live assignments never share a slot, so an item never has more reviewers than slots.
            models.UniqueConstraint(
                fields=["item", "slot"],
                condition=Q(state__in=LIVE_ASSIGNMENT_STATES),
                name="assignment_one_live_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(slot__gte=1, slot__lte=MAX_REVIEWS_PER_ITEM), name="assignment_slot_in_range"
            ),
            models.CheckConstraint(
                condition=Q(state="reserved") | Q(claimed_at__isnull=False, expires_at__isnull=False),
                name="assignment_lease_unless_reserved",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="assignment_lease_idx"),
            models.Index(fields=["reviewer", "queue", "state"], name="assignment_reviewer_idx"),
        ]

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

    class Preference(models.TextChoices):
        A = "a", "Candidate A (response)"
        B = "b", "Candidate B (reference response)"

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
    turn_index = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=(
            "Position in the item's transcript (conversation, then response) of the assistant turn under "
            "review, on items with turn_selectable; empty means the response."
        ),
    )
    preferred = models.CharField(
        max_length=1, blank=True, choices=Preference.choices,
        help_text="On a pairwise item, the better candidate: a (response) or b (reference response).",
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
        help_text="The earlier revision of the same review that this one replaces.",
    )
    is_current = models.BooleanField(
        default=True,
        help_text="False once a revision replaces this review or the item is sent back for re-review.",
    )

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
            # Only the latest revision counts: one current review per reviewer and item.
            models.UniqueConstraint(
                fields=["item", "reviewer"],
                condition=Q(is_current=True, kind="review"),
                name="review_one_current_per_reviewer",
            ),
        ]
        indexes = [
            models.Index(fields=["submitted_at"], name="review_submitted_idx"),
            models.Index(fields=["item", "is_current"], name="review_item_current_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.item_id} by {self.reviewer}"

    def clean(self) -> None:
        if self.verdict == self.Verdict.NEEDS_FIX:
            if not self.corrected_response.strip():
                raise ValidationError({"corrected_response": "A needs_fix verdict requires the corrected response."})
            original = self.original_text if self.item_id else ""
            if self.corrected_response.strip() == original.strip():
                raise ValidationError(
                    {"corrected_response": "The corrected response is the same as the original; edit it, or approve."}
                )
        if self.verdict == self.Verdict.REJECTED and not self.reason.strip():
            raise ValidationError({"reason": "A rejected verdict requires a reason."})

    @property
    def original_text(self) -> str:
        """The text of the reply this review judged, which a needs_fix rewrite replaces."""
        reply = self.item.reply_under_review(turn_index=self.turn_index, preferred=self.preferred)
        return reply.get("content") or ""
