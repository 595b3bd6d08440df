from django.conf import settings
from django.db import models

from .formats import format_choices


class ExportJob(models.Model):
    """A request for a training bundle, and the bundle once a worker has built it."""

    class Kind(models.TextChoices):
        SFT = "sft", "SFT"
        DPO = "dpo", "DPO"
        BOTH = "both", "SFT and DPO"

    class Format(models.TextChoices):
        """The built-in formats; the field's choices come from the registry in ``exports.formats``."""

        TRL = "trl", "TRL conversational"
        OPENAI = "openai", "OpenAI-compatible"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BOTH)
    format = models.CharField(max_length=16, choices=format_choices, default=Format.TRL)
    filters = models.JSONField(default=dict, blank=True)
    queues = models.ManyToManyField("reviews.Queue", related_name="export_jobs", blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    bundle = models.FileField(upload_to="exports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="export_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.kind}, {self.format}, {self.state})"

    @property
    def progress(self) -> float:
        if self.state == self.State.SUCCEEDED:
            return 1.0
        return round(self.rows_done / self.rows_total, 4) if self.rows_total else 0.0
