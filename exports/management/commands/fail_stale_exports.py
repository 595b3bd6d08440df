"""``manage.py fail_stale_exports``: fail export jobs whose build stopped with no task coming back for them."""

from django.conf import settings
from django.core.management.base import BaseCommand

from bookbag.audit.context import audit_context
from exports.lifecycle import export_fail_stale


class Command(BaseCommand):
    help = (
        "Mark failed every export job whose build stopped sending heartbeats more than "
        "BOOKBAG_EXPORT_STALE_FAIL_AFTER seconds ago, with the reason stored on the job. Celery beat runs the "
        "same sweep every minute; run this command from cron where no beat process runs."
    )

    def handle(self, *args, **options) -> None:
        with audit_context(channel="command"):
            failed = export_fail_stale()
        if not failed:
            self.stdout.write(
                f"No stale exports (threshold {settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER} s)."
            )
            return
        ids = ", ".join(str(job_id) for job_id in failed)
        self.stdout.write(self.style.WARNING(f"Marked {len(failed)} stale export(s) failed: {ids}"))
