"""``manage.py export``: build an export bundle in-process and write the zip to a path."""

import os
import shutil
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bookbag.audit.context import audit_context
from bookbag.errors import BookbagError
from exports.counts import counts_lines
from exports.formats import format_names, kind_names
from exports.models import ExportJob
from exports.services import export_build, export_request
from reviews.access import command_actor_default, is_manager


class Command(BaseCommand):
    help = (
        "Build the same export bundle that the API serves, in this process, and write the zip to --output. "
        "Prints the row counts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--queue", action="append", required=True, dest="queues", metavar="SLUG",
            help="Slug of a queue to export; repeat the option for several queues.",
        )
        parser.add_argument(
            "--kind", choices=kind_names(), default=ExportJob.Kind.BOTH,
            help="Data files to build: both (sft and dpo), all (every file of the format) or one file kind "
                 "(default: both).",
        )
        parser.add_argument("--format", choices=format_names(), default=ExportJob.Format.TRL,
                            help="Row format of the data files (default: trl).")
        parser.add_argument(
            "--validation-ratio", type=float, default=0.0, metavar="RATIO",
            help="Share of conversations written to validation files, from 0 up to but excluding 1 "
                 "(default: 0, no split files).",
        )
        parser.add_argument("--redact-pii", action="store_true",
                            help="Replace emails, phone numbers, card numbers and SSNs with placeholders.")
        parser.add_argument("--tool-arguments", choices=["object", "string"],
                            help="Tool-call arguments in TRL files as JSON objects (the default) or strings.")
        parser.add_argument("--output", required=True, metavar="PATH", help="File path of the zip to write.")
        parser.add_argument("--force", action="store_true", help="Overwrite --output if the file exists.")
        parser.add_argument(
            "--as", dest="username", metavar="USERNAME",
            help="Manager to export as; their queues bound the export. Default: the first active superuser.",
        )

    def handle(self, *args, queues, kind, format, output, force, username, **options) -> None:
        output_path = _output_checked(Path(output), force=force)
        requester = _requester(username)
        file_options = {
            "validation_ratio": options["validation_ratio"], "redact_pii": options["redact_pii"],
            "tool_arguments": options["tool_arguments"],
        }

        with audit_context(channel="command"):
            try:
                job = export_request(
                    requester=requester, kind=kind, format=format, filters={"queues": queues}, options=file_options,
                    enqueue=False,
                )
            except (BookbagError, ValidationError) as error:
                raise CommandError(_message(error)) from error
            export_build(job_id=job.pk)
        job.refresh_from_db()
        if job.state != ExportJob.State.SUCCEEDED:
            raise CommandError(f"Export {job.pk} failed: {job.error}")

        _bundle_copy(job, output_path)
        self._counts_print(job, output_path)

    def _counts_print(self, job: ExportJob, output_path: Path) -> None:
        for line in counts_lines(job):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Wrote export {job.pk} to {output_path} (sha256 {job.sha256})"))


def _output_checked(path: Path, *, force: bool) -> Path:
    if path.is_dir():
        raise CommandError(
            f"Output path {str(path)!r} is a directory; give a file path such as {str(path / 'export.zip')!r}."
        )
    if not path.parent.is_dir():
        raise CommandError(f"Output directory {str(path.parent)!r} does not exist; create it first.")
    if path.exists() and not force:
        raise CommandError(f"Output file {str(path)!r} already exists; pass --force to overwrite it.")
    return path


def _requester(username: str | None):
    User = get_user_model()
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"User {username!r} not found; pass the username of a manager with --as.")
        if not is_manager(user):
            raise CommandError(
                f"User {username!r} is not a manager, so they cannot request exports; pass a manager's username "
                f"with --as, or give {username!r} the manage_workspace permission."
            )
        return user
    user = command_actor_default()
    if user is None:
        raise CommandError("No active superuser exists; pass --as USERNAME with a manager's username.")
    return user


def _message(error: Exception) -> str:
    if isinstance(error, BookbagError):
        return error.message
    return " ".join(error.messages)


def _bundle_copy(job: ExportJob, output_path: Path) -> None:
    """Copy the stored bundle to ``output_path`` through a temporary file, so a partial zip never appears there."""
    handle, temporary = tempfile.mkstemp(dir=output_path.parent, prefix=".export-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as target, job.bundle.open("rb") as source:
            shutil.copyfileobj(source, target)
        os.replace(temporary, output_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
