from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from .formats import format_choices, kind_choices


class ExportJob(models.Model):
    """A request for a training bundle, and the bundle once a worker has built it."""

    class Kind(models.TextChoices):
        """The built-in kinds; the field's choices come from the registry in ``exports.formats``."""

        SFT = "sft", "SFT"
        DPO = "dpo", "DPO"
        BOTH = "both", "SFT and DPO"
        ALL = "all", "Every file of the format"

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
    kind = models.CharField(max_length=16, choices=kind_choices, default=Kind.BOTH)
    format = models.CharField(max_length=16, choices=format_choices, default=Format.TRL)
    filters = models.JSONField(default=dict, blank=True)
    options = models.JSONField(
        default=dict, blank=True,
        help_text="How the files are made: validation_ratio, redact_pii and tool_arguments.",
    )
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
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the running build, written after every chunk of rows."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Build attempts so far; a stale or retried build starts again from scratch."
    )
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns",
        help_text="The job whose parameters this job repeats.",
    )

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


class WebhookEndpoint(models.Model):
    """A URL that a manager registered to receive signed notices about the export jobs they requested."""

    class Event(models.TextChoices):
        EXPORT_SUCCEEDED = "export.succeeded", "Export succeeded"
        EXPORT_FAILED = "export.failed", "Export failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(
        "URL", max_length=2000,
        validators=[URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")],
    )
    secret = models.CharField(max_length=128, help_text="Key of the HMAC-SHA256 signature on every delivery.")
    events = models.JSONField(default=list, help_text="Event types to send, e.g. [\"export.succeeded\"].")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        events = self.events
        if not isinstance(events, list) or not events:
            raise ValidationError({"events": f"Choose at least one event from {', '.join(self.Event.values)}."})
        for event in events:
            if event not in self.Event.values:
                raise ValidationError(
                    {"events": f"Unknown event {event!r}; choose from {', '.join(self.Event.values)}."}
                )
        if len(set(events)) != len(events):
            raise ValidationError({"events": "Each event may be listed once."})


class WebhookDelivery(models.Model):
    """One attempt to send one event to one endpoint, with the receiver's response or the error."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(
        db_index=True, help_text="Identifier of the event, the same on every attempt, so receivers can deduplicate."
    )
    event = models.CharField(max_length=32, choices=WebhookEndpoint.Event.choices)
    job = models.ForeignKey(
        ExportJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_deliveries"
    )
    payload = models.JSONField(help_text="The JSON body that was sent.")
    attempt = models.PositiveSmallIntegerField(help_text="1 for the first attempt, counting up with each retry.")
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the response.")
    response_ms = models.PositiveIntegerField(
        "response time (ms)", null=True, blank=True,
        help_text="Milliseconds from sending the request to reading the response or failing.",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} attempt {self.attempt}"
