"""Walking the hash chain to prove that no stored event was changed or removed."""

from collections.abc import Callable
from dataclasses import dataclass

from .chain import GENESIS_HASH, event_hash
from .models import AuditCheckpoint, AuditEvent

CHUNK_SIZE = 5000


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose hash or link does not match, and why."""

    event_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_hash: str
    broken: ChainBreak | None


def _check(event: AuditEvent, *, expected_previous: str, previous_id: int | None) -> ChainBreak | None:
    if event.previous_hash != expected_previous:
        after = f"event {previous_id}" if previous_id else "the start of the chain"
        return ChainBreak(
            event.pk,
            f"link broken: previous_hash does not match the hash of {after}, so an event between them "
            "was deleted, or an earlier event was rewritten with a new hash",
        )
    if event_hash(event) != event.hash:
        return ChainBreak(event.pk, "content changed: the stored hash does not match the event's content")
    return None


def _start() -> tuple[str, int, ChainBreak | None]:
    """Return the hash the first kept event links to, the last pruned id and a missing-prune-event break."""
    checkpoint = AuditCheckpoint.objects.order_by("-id").first()
    if checkpoint is None:
        return GENESIS_HASH, 0, None
    recorded = AuditEvent.objects.filter(
        action="audit.prune", object_type="audit.auditcheckpoint", object_id=str(checkpoint.pk),
        id__gt=checkpoint.pruned_through_id,
    ).exists()
    if recorded:
        return checkpoint.head_hash, checkpoint.pruned_through_id, None
    reason = f"checkpoint {checkpoint.pk} has no audit.prune event, so it was not written by audit_prune"
    return checkpoint.head_hash, checkpoint.pruned_through_id, ChainBreak(checkpoint.pruned_through_id, reason)


def chain_verify(*, progress: Callable[[int], None] | None = None, every: int = 100_000) -> ChainReport:
    """Check every stored event in id order and return the count and the first break, if any.

    Reads the events with a streaming iterator, so memory stays flat however
    many there are. Calls ``progress`` with the count every ``every`` events.
    Deleting the newest events leaves no broken link; compare ``head_hash``
    with a copy kept elsewhere to notice that.
    """
    expected, start_after, broken = _start()
    if broken:
        return ChainReport(checked=0, head_hash=expected, broken=broken)
    checked, previous_id = 0, None
    events = AuditEvent.objects.filter(id__gt=start_after).order_by("id")
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        broken = _check(event, expected_previous=expected, previous_id=previous_id)
        if broken:
            return ChainReport(checked=checked, head_hash=expected, broken=broken)
        expected, previous_id = event.hash, event.pk
        checked += 1
        if progress and checked % every == 0:
            progress(checked)
    return ChainReport(checked=checked, head_hash=expected, broken=None)
