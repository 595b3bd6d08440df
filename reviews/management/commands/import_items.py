"""``import_items PATH [--queue SLUG]``: import AI replies from a JSON or JSON Lines file."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bookbag.audit.context import audit_context
from bookbag.errors import BookbagError
from reviews.access import can_manage, is_manager
from reviews.ingest.formats import FORMAT_NAMES
from reviews.ingest.importing import BATCH_SIZE, file_import
from reviews.ingest.reading import FileError
from reviews.ingest.records import RowDefaults
from reviews.ingest.report import ImportReport
from reviews.models import Queue

HELP = """Import AI replies to review from a JSON Lines or JSON array file (gzip allowed) into a queue.

Without --queue, each row goes to the first active queue whose routing rules
and sampling rate take it (only queues the --as user manages). Rows that no
queue takes are kept without a queue, and the summary counts them. An admin
moves them into a queue with the "Move to queue" action of the admin's review
item list.

By default every valid row is imported, and every rejected row is listed with
its line number (or array index) and reason. The command then exits with
status 1 if any row was rejected, so that scripts notice. With --strict, one
invalid row rejects the whole file and nothing is written. Rows already
imported (same source and external_id) are skipped as duplicates, so running
the same file twice creates nothing new. Rows are saved in batches of {batch}.
"""


class Command(BaseCommand):
    help = HELP.format(batch=BATCH_SIZE)

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="JSON Lines or JSON array file, optionally gzip-compressed.")
        parser.add_argument(
            "--queue", metavar="SLUG",
            help="Slug of the queue that receives the items; without it, the queues' routing rules choose.",
        )
        parser.add_argument(
            "--format", default="auto", dest="format_name", metavar="FORMAT",
            help=f"Row format: {', '.join(FORMAT_NAMES)}. The default, auto, detects it from the first row.",
        )
        parser.add_argument(
            "--source", metavar="NAME", help="Source for rows that name none (default: the format name)."
        )
        parser.add_argument("--model", default="", metavar="NAME", help="Model name for rows that name none.")
        parser.add_argument("--strict", action="store_true", help="Write nothing if any row is invalid.")
        parser.add_argument(
            "--as", dest="username", metavar="USERNAME",
            help="Import as this user, who must manage the queue (or be a manager, without --queue); "
            "the audit history names them.",
        )

    def handle(self, *args, path: str, queue: str | None, format_name: str, source: str | None, model: str,
               strict: bool, username: str | None, **options) -> None:
        if format_name not in FORMAT_NAMES:
            raise CommandError(f"Unknown format {format_name!r}; use {', '.join(FORMAT_NAMES)}.")
        file_path = Path(path)
        if not file_path.is_file():
            raise CommandError(f"File {path!r} not found; check the path.")
        target = None
        if queue is not None:
            target = Queue.objects.filter(slug=queue).first()
            if target is None:
                raise CommandError(f"Queue {queue!r} not found; check the slug or create the queue first.")
        actor = self._actor(username, target)

        report = ImportReport(out=self.stdout, progress_out=self.stderr)
        with audit_context(channel="command"):
            try:
                file_import(path=file_path, queue=target, actor=actor, report=report, format_name=format_name,
                            defaults=RowDefaults(source=source, model=model), strict=strict)
            except FileError as error:
                if strict:
                    raise CommandError(f"{error} Strict mode: nothing was imported.") from None
                self._write_summary(report)
                raise CommandError(f"{error} The rows counted above were imported.") from None
            except BookbagError as error:
                raise CommandError(error.message) from None

        self._write_summary(report)
        if report.rejected:
            plural = "row was" if report.rejected == 1 else "rows were"
            raise CommandError(f"{report.rejected} {plural} rejected; see the list above.")

    def _actor(self, username: str | None, queue: Queue | None):
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"User {username!r} not found; check --as.")
        if queue is None and not is_manager(user):
            raise CommandError(
                f"User {username!r} is not a manager, so no queue takes their items; "
                f"pass a manager's username with --as, or give {username!r} the manage_workspace permission."
            )
        if queue is not None and not can_manage(user, queue):
            raise CommandError(
                f"User {username!r} does not manage queue {queue.slug!r}; pass the username of a manager of "
                f"{queue.slug!r} with --as, or make {username!r} a manager of it."
            )
        return user

    def _write_summary(self, report: ImportReport) -> None:
        for line in report.summary_lines():
            self.stdout.write(line)
