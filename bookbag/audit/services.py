"""The one writer of audit events; every state-changing service calls it."""

import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .chain import chain_head, chain_lock, event_hash, normalise_json
from .context import current
from .models import AuditEvent, AuditEventQueue


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the JSON-ready values of ``fields`` on ``instance`` (foreign keys as ids)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attribute = field.attname if field.is_relation and field.many_to_one else name
        values[name] = _jsonable(getattr(instance, attribute))
    return values


def _to_json(value: dict | None) -> dict | None:
    """Return ``value`` as plain JSON types, in the form the hash and both databases keep unchanged."""
    if value is None:
        return None
    return normalise_json(json.loads(json.dumps(value, default=_jsonable)))


def _changes_only(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Drop the keys that have the same value in ``before`` and ``after``."""
    if before is None or after is None:
        return before, after
    same = {key for key in before.keys() & after.keys() if before[key] == after[key]}
    return (
        {key: value for key, value in before.items() if key not in same},
        {key: value for key, value in after.items() if key not in same},
    )


def _event_build(*, actor, action: str, instance: models.Model, before: dict | None, after: dict | None) -> AuditEvent:
    context = current()
    label = ""
    if actor is not None:
        label = actor.get_username()
        if context.via_token:
            label = f"{label} (token {context.via_token})"
    return AuditEvent(
        actor_id=actor.pk if actor is not None and actor.pk else None,
        actor_label=label,
        via_token=context.via_token if actor is not None else "",
        initiator_id=context.initiator_id,
        channel=context.channel,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
        request_id=context.request_id,
    )


def _append(events: Sequence[AuditEvent], instances: Sequence[models.Model]) -> list[AuditEvent]:
    """Chain ``events`` onto the newest stored event and insert them with their queue links."""
    from reviews.access import audit_queue_ids

    # No savepoint: a failed audit write must fail the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        chain_lock()
        previous = chain_head()
        # Taken under the lock, so times follow chain order (unless the clock is set back) and pruning by time
        # deletes a prefix of the chain.
        now = timezone.now()
        for event in events:
            event.created_at = now
            event.previous_hash = previous
            event.hash = previous = event_hash(event)
        created = AuditEvent.objects.bulk_create(events)
        links = [
            AuditEventQueue(event=event, queue_id=queue_id)
            for event, instance in zip(created, instances, strict=True)
            for queue_id in audit_queue_ids(instance)
        ]
        if links:
            AuditEventQueue.objects.bulk_create(links)
    return created


def audit_record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent | None:
    """Append one event for ``action`` on ``instance`` within the caller's transaction.

    ``actor`` is a user or None for system work. Channel, request id, the
    token in use and the initiating user come from the current audit
    context. When ``before`` and ``after`` are both given, the event keeps
    only the keys whose value changed. If none changed, no event is written
    and None is returned. Appends take the
    chain lock until the caller's transaction ends, so events are chained
    in commit order.
    """
    before, after = _changes_only(_to_json(before), _to_json(after))
    if before == {} and after == {}:
        return None
    event = _event_build(actor=actor, action=action, instance=instance, before=before, after=after)
    return _append([event], [instance])[0]


def audit_record_many(
    *,
    actor,
    action: str,
    changes: Sequence[tuple[models.Model, dict | None, dict | None]],
) -> list[AuditEvent]:
    """Append one ``action`` event per ``(instance, before, after)`` in ``changes``, in one insert.

    Bulk writes (``bulk_create``, queryset ``update``) call it for the rows
    they change. Entries are trimmed as in ``audit_record`` and left out
    when nothing changed.
    """
    return audit_record_batch(actor=actor, entries=[(action, *change) for change in changes])


def audit_record_batch(
    *,
    actor,
    entries: Sequence[tuple[str, models.Model, dict | None, dict | None]],
) -> list[AuditEvent]:
    """Append one event per ``(action, instance, before, after)`` in ``entries``, in one insert.

    A service that changes several objects calls it once at its end, so its
    transaction takes the chain lock once and holds it only until the commit.
    Entries are trimmed as in ``audit_record`` and left out when nothing changed.
    """
    events, instances = [], []
    for action, instance, before, after in entries:
        before, after = _changes_only(_to_json(before), _to_json(after))
        if before == {} and after == {}:
            continue
        events.append(_event_build(actor=actor, action=action, instance=instance, before=before, after=after))
        instances.append(instance)
    if not events:
        return []
    return _append(events, instances)
