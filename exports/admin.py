"""Export job admin: the list of bundle requests with their progress, a download link, and a re-run action."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from bookbag.errors import BookbagError
from reviews.access import export_jobs_visible, is_manager

from .models import ExportJob
from .services import export_rerun
from .webhooks import admin as webhooks_admin  # noqa: F401  (registers the webhook admins)

# Row labels of the change page's counts table, in the manifest's order. Keys without a label follow, sorted by name.
COUNT_LABELS = {
    "items": "Items",
    "verdicts": "Verdicts",
    "rows": "Rows per data file",
    "duplicates_removed": "Duplicate rows removed",
    "dpo_pairs_dropped_identical": "Preference pairs dropped as identical",
    "trivial_edits": "Rewrites changing only whitespace or punctuation",
    "rows_invalid": "Rows left out by the format check",
    "items_skipped_invalid": "Items skipped as invalid",
    "redacted": "Redacted",
}
NO_COUNT = "—"


def count_text(value) -> str:
    """Format one value of a job's ``counts``. A number shows as is and a mapping as ``name count · name count``.

    Names are sorted, because PostgreSQL's jsonb does not keep the order in which the keys were written.
    """
    if isinstance(value, dict):
        return " · ".join(f"{name} {count}" for name, count in sorted(value.items())) or NO_COUNT
    return NO_COUNT if value is None else str(value)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Managers see the jobs they requested, superusers every job, reviewers none."""

    list_display = (
        "id", "requester", "kind", "format", "state", "progress_display", "items_display", "data_rows_display",
        "verdicts_display", "attempts", "created_at", "download",
    )
    list_select_related = ("requester",)
    list_filter = ("state", "kind", "format")
    fields = (
        "requester", "kind", "format", "state", "progress_display", "counts_display", "filters", "error",
        "idempotency_key", "sha256", "download", "attempts", "heartbeat_at", "rerun_of", "created_at", "started_at",
        "finished_at",
    )
    readonly_fields = fields
    actions = ["rerun_jobs"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=export_jobs_visible(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_rerun_permission(self, request) -> bool:
        return is_manager(request.user)

    @admin.action(description="Re-run with the same parameters", permissions=["rerun"])
    def rerun_jobs(self, request, queryset) -> None:
        requested = []
        for job_id in queryset.order_by("id").values_list("pk", flat=True):
            try:
                requested.append(export_rerun(actor=request.user, job_id=job_id).pk)
            except BookbagError as error:
                self.message_user(request, f"Export {job_id} was not re-run: {error.message}", messages.ERROR)
            except ValidationError as error:
                self.message_user(
                    request, f"Export {job_id} was not re-run: {' '.join(error.messages)}", messages.ERROR
                )
        if requested:
            ids = ", ".join(str(job_id) for job_id in requested)
            self.message_user(request, f"Requested {len(requested)} new export(s): {ids}.", messages.SUCCESS)

    @admin.display(description="progress")
    def progress_display(self, job: ExportJob) -> str:
        # rows_done and rows_total count the reviewed items read so far, not the rows written to the data files.
        return format_html(
            '<progress value="{}" max="1">{}</progress> {} / {} items, {}',
            job.progress, f"{job.progress:.0%}", job.rows_done, job.rows_total, f"{job.progress:.0%}",
        )

    @admin.display(description="items")
    def items_display(self, job: ExportJob) -> str:
        return count_text(job.counts.get("items"))

    @admin.display(description="data file rows")
    def data_rows_display(self, job: ExportJob) -> str:
        return count_text(job.counts.get("rows"))

    @admin.display(description="verdicts")
    def verdicts_display(self, job: ExportJob) -> str:
        return count_text(job.counts.get("verdicts"))

    @admin.display(description="counts")
    def counts_display(self, job: ExportJob) -> str:
        if not job.counts:
            return NO_COUNT
        keys = [key for key in COUNT_LABELS if key in job.counts]
        keys += sorted(key for key in job.counts if key not in COUNT_LABELS)
        rows = format_html_join(
            "", '<tr><th scope="row">{}</th><td>{}</td></tr>',
            ((COUNT_LABELS.get(key, key), count_text(job.counts[key])) for key in keys),
        )
        return format_html('<table class="export-counts">{}</table>', rows)

    @admin.display(description="bundle")
    def download(self, job: ExportJob) -> str:
        if job.state != ExportJob.State.SUCCEEDED:
            return "—"
        # The API streams the bundle and records the download, so the admin links there instead of serving the file.
        return format_html('<a href="{}">Download</a>', reverse("export-download", args=[job.pk]))
