"""``manage.py fail_stale_exports``: resend or fail export jobs whose build never started or stopped."""

from django.conf import settings
from django.core.management.base import BaseCommand

from bookbag.audit.context import audit_context
from exports.lifecycle import export_fail_stale, export_resend_unstarted


class Command(BaseCommand):
    help = (
        "Send the build task again for every export job still queued, never started, "
        "BOOKBAG_EXPORT_STALE_FAIL_AFTER seconds after its request, and mark failed every job whose build "
        "stopped sending heartbeats (or whose resent task did not start) that long ago, with the reason stored "
        "on the job. Celery beat runs the same sweep every minute; run this command from cron where no beat "
        "process runs."
    )

    def handle(self, *args, **options) -> None:
        with audit_context(channel="command"):
            resent = export_resend_unstarted()
            failed = export_fail_stale()
        if resent:
            ids = ", ".join(str(job_id) for job_id in resent)
            self.stdout.write(f"Sent the build task again for {len(resent)} export(s) that never started: {ids}")
        if failed:
            ids = ", ".join(str(job_id) for job_id in failed)
            self.stdout.write(self.style.WARNING(f"Marked {len(failed)} stale export(s) failed: {ids}"))
        if not resent and not failed:
            self.stdout.write(
                f"No stale exports (threshold {settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER} s)."
            )
