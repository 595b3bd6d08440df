"""API views; routes register on bookbag.api.routers.router.

``POST exports/`` requests a bundle (202 with the job), ``GET exports/`` and
``GET exports/{id}/`` show the requester's own jobs, with progress,
``GET exports/{id}/download/`` returns the zip once the job has succeeded, and
``POST exports/{id}/rerun/`` requests a new job with the same parameters.
The webhook endpoints are in ``exports.webhooks.api``.
"""

from typing import Any

import django_filters
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookbag.api.negotiation import FormatFilterNegotiation
from bookbag.api.routers import router
from bookbag.api.scoping import ScopedObjectMixin
from bookbag.api.serializers import RejectUnknownFieldsMixin, StrictBooleanField, body_reject_fields
from bookbag.api.throttling import EXPORT
from bookbag.errors import PermissionDenied
from bookbag.tokens.permissions import HasScope
from reviews.access import is_manager

from .formats import format_choices, format_names, kind_choices
from .models import ExportJob
from .options import OPTION_KEYS
from .selectors import export_job_list
from .services import export_download, export_request, export_rerun
from .webhooks import api as webhooks_api  # noqa: F401  (registers the webhook routes)


class ExportRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=kind_choices(), default=ExportJob.Kind.BOTH,
        help_text=(
            "Data files to build: `both` (sft and dpo), `all` (every file the format has) or one file kind. "
            "`trl` has sft, dpo, kto and sft_messages; `openai` has sft and dpo."
        ),
    )
    format = serializers.CharField(
        default=ExportJob.Format.TRL, max_length=16, help_text=f"Row format family: {', '.join(format_names())}."
    )
    filters = serializers.DictField(
        required=False, default=dict,
        help_text=(
            "Which final reviews to export: queues, verdicts, reviewers, rubric_versions (slug@version), "
            "reviewed_after, reviewed_before, sources, models, since_export (a succeeded export's id) and "
            "agreed_or_adjudicated (true keeps only items that several reviewers agreed on or a lead decided)."
        ),
    )
    validation_ratio = serializers.FloatField(
        required=False, default=0.0,
        help_text="Share of conversations put in validation files, from 0 (no split files) up to but excluding 1.",
    )
    redact_pii = StrictBooleanField(
        required=False, default=False,
        help_text="Replace emails, phone numbers, card numbers and SSNs in every exported text with placeholders.",
    )
    tool_arguments = serializers.ChoiceField(
        choices=["object", "string"], required=False, allow_null=True, default=None,
        help_text="Tool-call arguments in TRL files: JSON objects (default) or JSON strings. OpenAI files use strings.",
    )
    idempotency_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_format(self, value: str) -> str:
        if value not in format_names():
            raise serializers.ValidationError(
                f"Unknown export format {value!r}; choose one of {', '.join(format_names())}."
            )
        return value


class ExportJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    report = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id", "state", "kind", "format", "filters", "options", "idempotency_key", "progress", "rows_done",
            "rows_total", "counts", "report", "error", "sha256", "created_at", "started_at", "finished_at",
            "download_url",
            "attempts", "heartbeat_at", "rerun_of",
        ]
        read_only_fields = fields

    @extend_schema_field({
        "type": "object", "nullable": True,
        "description": "Items skipped and rows left out of the bundle as invalid, each with its reason.",
        "properties": {
            "skipped_items": {"type": "array", "items": {"type": "object"}},
            "invalid_rows": {"type": "array", "items": {"type": "object"}},
        },
    })
    def get_report(self, job: ExportJob) -> dict[str, Any] | None:
        if not job.manifest:
            return None
        return {key: job.manifest.get(key, []) for key in ("skipped_items", "invalid_rows")}

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.state != ExportJob.State.SUCCEEDED:
            return None
        url = reverse("export-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportJobFilter(django_filters.FilterSet):
    """The export list's query parameters, the same as the admin's list filters."""

    state = django_filters.ChoiceFilter(choices=ExportJob.State.choices)
    kind = django_filters.ChoiceFilter(choices=kind_choices())
    format = django_filters.ChoiceFilter(choices=format_choices())

    class Meta:
        model = ExportJob
        fields = ["state", "kind", "format"]


class ExportJobViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Export jobs of the authenticated manager. Other users' jobs return 404."""

    queryset = ExportJob.objects.none()
    serializer_class = ExportJobSerializer
    lookup_value_regex = r"\d+"
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": "export"}
    throttle_scopes = {"create": EXPORT, "rerun": EXPORT}
    filterset_class = ExportJobFilter
    content_negotiation_class = FormatFilterNegotiation

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        if not is_manager(self.request.user):
            raise PermissionDenied("Only managers see exports.")
        return export_job_list(requester=self.request.user)

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportJobSerializer})
    def create(self, request):
        payload = ExportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        options = {key: fields.pop(key) for key in OPTION_KEYS}
        job = export_request(requester=request.user, options=options, **fields)
        # In eager mode the build has already run by now, so read the job's current state.
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ExportJobSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        body_reject_fields(request.data)
        job = export_rerun(actor=request.user, job_id=int(pk))
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The bundle zip."),
            409: OpenApiResponse(description="The job has not succeeded (yet)."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = export_download(job_id=int(pk), actor=request.user)
        return FileResponse(
            job.bundle.open("rb"),
            as_attachment=True,
            filename=f"bookbag-export-{job.pk}.zip",
            content_type="application/zip",
        )

    def perform_content_negotiation(self, request, force=False):
        # A client that accepts only application/zip still gets the bundle, and errors as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")


router.register("exports", ExportJobViewSet, basename="export")
