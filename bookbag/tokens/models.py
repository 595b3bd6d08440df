from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    INGEST = "ingest", "Ingest items"
    REVIEW = "review", "Claim and review"
    EXPORT = "export", "Trigger and download exports"
    READ = "read", "Read"
    MANAGE = "manage", "Manage rubrics and queues"


class ApiToken(models.Model):
    """An API key bound to a user; only its SHA-256 digest is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
