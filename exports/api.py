"""API views; routes register on bookbag.api.routers.router.

``POST exports/`` requests a bundle (202 with the job), ``GET exports/`` and
``GET exports/{id}/`` show the requester's own jobs, with progress,
``GET exports/{id}/download/`` returns the zip once the job has succeeded, and
``POST exports/{id}/rerun/`` requests a new job with the same parameters.
The webhook endpoints are in ``exports.webhooks.api``.
"""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookbag.api.routers import router
from bookbag.errors import PermissionDenied
from bookbag.tokens.permissions import HasScope
from reviews.access import is_manager

from .formats import format_names
from .models import ExportJob
from .selectors import export_job_list
from .services import export_download, export_request, export_rerun
from .webhooks import api as webhooks_api  # noqa: F401  (registers the webhook routes)


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportJob.Kind.values, default=ExportJob.Kind.BOTH)
    format = serializers.CharField(default=ExportJob.Format.TRL, max_length=16)
    filters = serializers.DictField(required=False, default=dict)
    idempotency_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_format(self, value: str) -> str:
        if value not in format_names():
            raise serializers.ValidationError(
                f"Unknown export format {value!r}; choose one of {', '.join(format_names())}."
            )
        return value


class ExportJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id", "state", "kind", "format", "filters", "idempotency_key", "progress", "rows_done", "rows_total",
            "counts", "error", "sha256", "created_at", "started_at", "finished_at", "download_url",
            "attempts", "heartbeat_at", "rerun_of",
        ]
        read_only_fields = fields

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.state != ExportJob.State.SUCCEEDED:
            return None
        url = reverse("export-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Export jobs of the authenticated manager. Other users' jobs return 404."""

    queryset = ExportJob.objects.none()
    serializer_class = ExportJobSerializer
    lookup_value_regex = r"\d+"
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": "export"}

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
        job = export_request(requester=request.user, **payload.validated_data)
        # In eager mode the build has already run by now, so read the job's current state.
        job.refresh_from_db()
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ExportJobSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
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
