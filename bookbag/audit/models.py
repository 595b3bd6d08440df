from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One state change: who did what to which object, from what to what, and when.

    Events are append-only: the admin shows them read-only, no app path
    updates or deletes them except ``audit_prune``, and on PostgreSQL a
    trigger rejects any other UPDATE, DELETE or TRUNCATE. Each event's
    ``hash`` covers its content and ``previous_hash``, the hash of the event
    before it, so ``verify_audit`` finds a changed or missing row.
    """

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        TASK = "task", "Task"
        COMMAND = "command", "Command"
        SHELL = "shell", "Shell"

    # No database constraint and no SET_NULL: deleting a user must not rewrite events.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    via_token = models.CharField(max_length=12, blank=True, help_text="Prefix of the API token the actor used.")
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", help_text="The user whose request started the task that did this work.",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id} by {self.actor_label or 'system'}"


class AuditEventQueue(models.Model):
    """A queue that an event's object belongs to; managers see the events of the queues they manage."""

    event = models.ForeignKey(AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="queue_links")
    queue_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["queue_id", "event"], name="audit_queue_event_idx")]


class AuditCheckpoint(models.Model):
    """The start of the hash chain after ``audit_prune`` deleted the events up to ``pruned_through_id``.

    ``head_hash`` is the hash of the last deleted event, which the first kept
    event stores as its ``previous_hash``.
    """

    pruned_through_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    cutoff = models.DateTimeField(help_text="Events created before this time were deleted.")
    pruned_count = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint after event {self.pruned_through_id}"
