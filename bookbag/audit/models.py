from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One state change: who did what to which object, from what to what, and when.

    Events are only ever inserted; the admin shows them read-only.
    """

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        TASK = "task", "Task"
        COMMAND = "command", "Command"
        SHELL = "shell", "Shell"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id} by {self.actor_label or 'system'}"
