import sys

from django.core.management.base import BaseCommand

from bookbag.audit.verify import chain_verify


class Command(BaseCommand):
    help = (
        "Check the hash chain of the audit history in id order. Prints progress on stderr; exits with status 1 "
        "and the id of the first changed or missing event when the chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--progress-every", type=int, default=100_000, help="Print progress after this many events (default 100000)."
        )

    def handle(self, *args, progress_every: int, **options):
        def progress(count: int) -> None:
            self.stderr.write(f"checked {count} events")

        report = chain_verify(progress=progress, every=max(progress_every, 1))
        if report.broken:
            self.stderr.write(self.style.ERROR(
                f"Audit chain broken at event {report.broken.event_id}: {report.broken.reason}. "
                f"{report.checked} events before it are intact."
            ))
            sys.exit(1)
        self.stdout.write(f"Audit chain intact: {report.checked} events checked; head hash {report.head_hash}.")
