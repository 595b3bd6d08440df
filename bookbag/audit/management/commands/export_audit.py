import datetime
import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils import timezone

from bookbag.audit.chain import time_text
from bookbag.audit.models import AuditEvent

CHUNK_SIZE = 5000


def _moment(value: str, option: str) -> datetime.datetime:
    """Parse an ISO 8601 date or time; a naive value is taken as UTC."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{option} {value!r} is not an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00Z.")
        moment = datetime.datetime.combine(day, datetime.time())
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def event_row(event: AuditEvent) -> dict:
    return {
        "id": event.pk, "created_at": time_text(event.created_at), "actor_id": event.actor_id,
        "actor_label": event.actor_label, "via_token": event.via_token, "initiator_id": event.initiator_id,
        "channel": event.channel, "action": event.action, "object_type": event.object_type,
        "object_id": event.object_id, "before": event.before, "after": event.after,
        "request_id": event.request_id, "previous_hash": event.previous_hash, "hash": event.hash,
    }


class Command(BaseCommand):
    help = "Write audit events, oldest first, as JSON Lines (one event with its hashes per line)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only events created at or after this ISO 8601 date or time (UTC if naive).")
        parser.add_argument("--until", help="Only events created before this ISO 8601 date or time (UTC if naive).")
        parser.add_argument("--output", required=True, help="Path of the JSON Lines file to write.")
        parser.add_argument("--force", action="store_true", help="Replace --output if it exists.")

    def handle(self, *args, since: str | None, until: str | None, output: str, force: bool, **options):
        events = AuditEvent.objects.order_by("id")
        if since:
            events = events.filter(created_at__gte=_moment(since, "--since"))
        if until:
            events = events.filter(created_at__lt=_moment(until, "--until"))
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"Folder {str(path.parent)!r} of --output does not exist; create it first.")
        if path.exists() and not force:
            raise CommandError(f"{str(path)!r} exists; choose another --output, or add --force to replace it.")

        # Written beside the target and renamed at the end, so an interrupted export leaves no partial file.
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        count = 0
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                for event in events.iterator(chunk_size=CHUNK_SIZE):
                    stream.write(json.dumps(event_row(event), ensure_ascii=False, sort_keys=True) + "\n")
                    count += 1
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        self.stdout.write(f"Wrote {count} audit events to {path}.")
