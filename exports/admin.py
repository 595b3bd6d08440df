"""Export job admin: a read-only list of bundle requests, with a download link once a bundle is built."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from reviews.access import is_manager

from .models import ExportJob

@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Managers see the jobs they requested, superusers every job, reviewers none."""

    list_display = (
        "id", "requester", "kind", "format", "state", "progress_display", "counts_display", "created_at", "download",
    )
    list_select_related = ("requester",)
    list_filter = ("state", "kind", "format")
    fields = (
        "requester", "kind", "format", "state", "progress_display", "counts_display", "filters", "error",
        "idempotency_key", "sha256", "download", "created_at", "started_at", "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(requester=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    @admin.display(description="progress")
    def progress_display(self, job: ExportJob) -> str:
        return f"{job.progress:.0%}"

    @admin.display(description="counts")
    def counts_display(self, job: ExportJob) -> str:
        return ", ".join(f"{name}: {count}" for name, count in sorted(job.counts.items())) or "—"

    @admin.display(description="bundle")
    def download(self, job: ExportJob) -> str:
        if job.state != ExportJob.State.SUCCEEDED:
            return "—"
        # The API streams the bundle and records the download, so the admin links there instead of serving the file.
        return format_html('<a href="{}">Download</a>', reverse("export-download", args=[job.pk]))
