"""Deleting audit events past the retention period, the one path allowed to delete them."""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from .chain import chain_lock, time_text
from .models import AuditCheckpoint, AuditEvent, AuditEventQueue
from .services import audit_record

logger = logging.getLogger(__name__)


def _events_delete(last_id: int) -> int:
    """Delete the events up to ``last_id`` with their queue links; return how many events."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The append-only trigger lets DELETE through only with this setting, which ends with the transaction.
            cursor.execute("SET LOCAL bookbag.audit_prune = 'on'")
    AuditEventQueue.objects.filter(event_id__lte=last_id).delete()
    count, _ = AuditEvent.objects.filter(id__lte=last_id).delete()
    return count


@transaction.atomic
def audit_prune(*, actor, older_than_days: int, now: datetime.datetime | None = None) -> AuditCheckpoint | None:
    """Delete the oldest events up to the newest one created more than ``older_than_days`` days ago.

    Deletes a prefix of the chain in id order and records an
    AuditCheckpoint with the last deleted id and hash, where
    ``verify_audit`` starts from then on, and an ``audit.prune`` event.
    Returns None when no event is old enough. Raises ValidationError for a
    period below one day.
    """
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 1:
        raise ValidationError({"older_than_days": f"The retention period must be at least 1 day, not {older_than_days!r}."})
    cutoff = (now or timezone.now()) - datetime.timedelta(days=older_than_days)

    chain_lock()
    last = AuditEvent.objects.filter(created_at__lt=cutoff).order_by("-id").values("id", "hash").first()
    if last is None:
        return None
    count = _events_delete(last["id"])
    checkpoint = AuditCheckpoint(pruned_through_id=last["id"], head_hash=last["hash"], cutoff=cutoff, pruned_count=count)
    checkpoint.full_clean()
    checkpoint.save()

    audit_record(
        actor=actor, action="audit.prune", instance=checkpoint,
        after={"pruned_through_id": last["id"], "pruned_count": count, "head_hash": last["hash"],
               "cutoff": time_text(cutoff), "older_than_days": older_than_days},
    )
    logger.info("audit.pruned", extra={"pruned_count": count, "pruned_through_id": last["id"]})
    return checkpoint
