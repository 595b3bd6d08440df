"""Ingesting review items: one transaction per batch, idempotent on ``source`` + ``external_id``."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bookbag.audit.services import audit_record_many
from bookbag.errors import Conflict, NotFound

from ..access import can_manage, is_manager
from ..ingest.records import ItemRecord
from ..models import Queue, ReviewItem
from .routing import item_route, routing_queues

logger = logging.getLogger(__name__)

# Fields that full_clean skips before the bulk insert: each of these checks
# would cost one query per item, and the queue, the user and the
# (source, external_id) key are already checked once for the whole batch.
CLEAN_EXCLUDE = ["queue", "created_by", "final_review"]


@dataclass(frozen=True)
class IngestOutcome:
    """Outcome of one record: the item it created, or the stored item it duplicates, and that item's queue."""

    id: int
    source: str
    external_id: str
    created: bool
    queue_id: int | None


@dataclass(frozen=True)
class IngestResult:
    """Outcomes in the order of the records given to ``items_ingest``."""

    outcomes: tuple[IngestOutcome, ...]

    @property
    def created(self) -> int:
        return sum(outcome.created for outcome in self.outcomes)

    @property
    def duplicates(self) -> int:
        return len(self.outcomes) - self.created

    @property
    def unqueued(self) -> int:
        """How many records' items have no queue because no queue's routing rules took them."""
        return sum(outcome.queue_id is None for outcome in self.outcomes)


class IngestConflict(ValidationError):
    """Some records clash with items stored under the same ``source`` + ``external_id``.

    ``reasons`` maps each clashing record's position in the batch to the
    reason; the error dict keys are the records' labels plus ``.external_id``.
    """

    def __init__(self, reasons: dict[int, str], records: Sequence[ItemRecord]) -> None:
        errors = {}
        for index, reason in reasons.items():
            label = records[index].label
            errors[f"{label}.external_id" if label else "external_id"] = [reason]
        super().__init__(errors)
        self.code = "item_conflict"
        self.reasons = reasons


def _stored_items(records: Sequence[ItemRecord]) -> dict[tuple[str, str], ReviewItem]:
    """Return the stored items that share a ``(source, external_id)`` key with ``records``."""
    keys = {(record.source, record.external_id) for record in records}
    candidates = ReviewItem.objects.filter(
        source__in={source for source, _ in keys}, external_id__in={external_id for _, external_id in keys}
    ).only("id", "queue_id", "source", "external_id", "content_hash")
    return {(item.source, item.external_id): item for item in candidates if (item.source, item.external_id) in keys}


def _clash(record: ItemRecord, item: ReviewItem, queue: Queue | None) -> str | None:
    key = f"source {record.source!r} and external_id {record.external_id!r}"
    if item.queue_id is None and queue is not None:
        # An import never changes a stored item, so a kept item stays unqueued until an admin moves it.
        return (
            f"{key} already belong to item {item.pk}, which is kept without a queue; an admin moves it into a "
            "queue with the \"Move to queue\" action of the admin's review item list"
        )
    if item.queue_id != (queue.pk if queue else None):
        return f"{key} already belong to an item in another queue; give this item a different external_id or source"
    if item.content_hash != record.content_hash:
        return (
            f"{key} already belong to item {item.pk} with a different conversation or response; "
            "imports never change stored items, so give this item a new external_id"
        )
    return None


def _plan(queue: Queue | None, records: Sequence[ItemRecord], stored: dict) -> tuple[list[ItemRecord], dict[int, str]]:
    """Return the records to insert (the first of each new key) and the clashes by record position."""
    new: dict[tuple[str, str], ItemRecord] = {}
    clashes: dict[int, str] = {}
    for index, record in enumerate(records):
        key = (record.source, record.external_id)
        if key in stored:
            reason = _clash(record, stored[key], queue)
        elif key in new:
            reason = _batch_clash(record, new[key])
        else:
            new[key] = record
            reason = None
        if reason:
            clashes[index] = reason
    return list(new.values()), clashes


def _batch_clash(record: ItemRecord, first: ItemRecord) -> str | None:
    if record.content_hash == first.content_hash:
        return None
    return (
        f"source {record.source!r} and external_id {record.external_id!r} are also used by "
        f"{first.label or 'an earlier item'} with a different conversation or response; "
        "give each item its own external_id"
    )


def _insert(queue: Queue | None, records: list[ItemRecord], actor) -> list[ReviewItem]:
    items = [
        ReviewItem(
            queue=queue, source=record.source, external_id=record.external_id, conversation=record.conversation,
            response=record.response, reference_response=record.reference_response, tools=record.tools,
            model=record.model, metadata=record.metadata, content_hash=record.content_hash,
            is_pairwise=record.is_pairwise, turn_selectable=record.turn_selectable,
            created_by=actor if actor is not None and actor.pk else None,
        )
        for record in records
    ]
    for item in items:
        item.full_clean(exclude=CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            created = ReviewItem.objects.bulk_create(items)
    except IntegrityError:
        # Only a concurrent import of the same keys gets here, between the lookup above and this insert.
        raise Conflict(
            "Another import created some of these items at the same moment; send the same items again, "
            "and the ones that now exist will count as duplicates.",
            code="ingest_race",
        ) from None

    audit_record_many(
        actor=actor, action="item.create",
        changes=[
            (item, None, {"queue": item.queue_id, "source": item.source, "external_id": item.external_id,
                          "content_hash": item.content_hash})
            for item in created
        ],
    )
    return created


def _outcomes(
    records: Sequence[ItemRecord], *, stored: dict[tuple[str, str], ReviewItem], created: list[ReviewItem]
) -> tuple[IngestOutcome, ...]:
    """Pair each record with its item; only the first record of a newly created key counts as created."""
    items = {**stored, **{(item.source, item.external_id): item for item in created}}
    new_keys = {(item.source, item.external_id) for item in created}
    outcomes = []
    for record in records:
        key = (record.source, record.external_id)
        outcomes.append(IngestOutcome(
            id=items[key].pk, source=record.source, external_id=record.external_id, created=key in new_keys,
            queue_id=items[key].queue_id,
        ))
        new_keys.discard(key)
    return tuple(outcomes)


@transaction.atomic
def items_ingest(*, queue: Queue | None, records: Sequence[ItemRecord], actor) -> IngestResult:
    """Create the items of ``records`` in ``queue`` and skip those already stored.

    A record whose ``source`` + ``external_id`` is stored in this queue with
    the same content hash is a duplicate and gets the stored item's id. Any
    other clash raises IngestConflict and writes nothing. ``actor`` must
    manage the queue; None stands for the system (a shell command run
    without ``--as``). A None ``queue`` keeps the items unqueued, which only
    a manager or the system may do; ``items_ingest_routed`` does that for
    items no queue takes. Each created item gets an ``item.create`` audit
    event, all of them written in one insert.
    """
    if queue is None and actor is not None and not is_manager(actor):
        raise NotFound(
            "No queue found for these items among the queues you manage; only managers ingest items. "
            "Ask for the manage_workspace permission, or name a queue you manage."
        )
    if queue is not None and actor is not None and not can_manage(actor, queue):
        raise NotFound(
            f"Queue {queue.slug!r} not found among the queues you manage; "
            "check the slug, or ask a manager of that queue to add you as a manager."
        )
    if not records:
        return IngestResult(outcomes=())
    stored = _stored_items(records)
    new_records, clashes = _plan(queue, records, stored)
    if clashes:
        raise IngestConflict(clashes, records)

    created = _insert(queue, new_records, actor)

    result = IngestResult(outcomes=_outcomes(records, stored=stored, created=created))
    logger.debug(
        "items.ingested",
        extra={"queue_id": queue.pk if queue else None, "created_count": result.created, "duplicate_count": result.duplicates},
    )
    return result


@transaction.atomic
def items_ingest_routed(*, records: Sequence[ItemRecord], actor) -> IngestResult:
    """Route each of ``records`` with ``item_route`` and ingest it into the queue that takes it.

    Only queues that ``actor`` manages are candidates (any queue for the
    system, a None ``actor``). Records that no queue takes are stored
    unqueued, and ``IngestResult.unqueued`` counts them. The whole batch is
    one transaction, so an IngestConflict in any queue writes nothing; its
    ``reasons`` use positions in ``records``.
    """
    candidates = routing_queues(actor=actor)
    groups: dict[int | None, list[int]] = {}
    queues: dict[int | None, Queue | None] = {None: None}
    for index, record in enumerate(records):
        queue = item_route(item=record, queues=candidates)
        key = queue.pk if queue else None
        queues[key] = queue
        groups.setdefault(key, []).append(index)

    outcomes: list[IngestOutcome | None] = [None] * len(records)
    for key, indexes in groups.items():
        try:
            result = items_ingest(queue=queues[key], records=[records[index] for index in indexes], actor=actor)
        except IngestConflict as conflict:
            raise IngestConflict({indexes[position]: reason for position, reason in conflict.reasons.items()}, records) from None
        for index, outcome in zip(indexes, result.outcomes, strict=True):
            outcomes[index] = outcome
    result = IngestResult(outcomes=tuple(outcome for outcome in outcomes if outcome is not None))
    logger.info("items.routed", extra={"record_count": len(records), "unqueued_count": result.unqueued})
    return result
