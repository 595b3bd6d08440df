import datetime
import decimal

import pytest

from bookbag.audit.chain import GENESIS_HASH, canonical_json, event_hash
from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record, audit_record_many
from reviews.services import queue_update

pytestmark = pytest.mark.django_db


def test_first_event_links_to_genesis(queue, manager):
    event = audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 1})

    assert event.previous_hash == GENESIS_HASH
    assert len(event.hash) == 64


def test_each_event_links_to_previous(queue, manager):
    first = audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 1})
    second = audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 2})

    assert second.previous_hash == first.hash
    assert second.hash != first.hash


def test_many_events_chain_in_order(queue, manager):
    events = audit_record_many(
        actor=manager, action="queue.touch", changes=[(queue, None, {"n": n}) for n in range(3)]
    )

    assert [event.previous_hash for event in events[1:]] == [event.hash for event in events[:-1]]


@pytest.mark.parametrize(
    "value",
    [
        {"float": 1.5, "whole_float": 2.0, "large": 1e20, "small": 1.5e-7, "sum": 0.1 + 0.2},
        {"text": "naïve → ✓", "nested": {"b": [1, {"z": None, "a": True}], "a": ""}},
        {"big_int": 2**63 - 1, "negative": -0.25},
    ],
)
def test_hash_survives_database_round_trip(queue, manager, value):
    event = audit_record(actor=manager, action="queue.touch", instance=queue, before={"x": 0}, after=value)

    stored = AuditEvent.objects.get(pk=event.pk)

    assert event_hash(stored) == stored.hash == event.hash


def test_python_values_stored_as_json(queue, manager):
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)

    event = audit_record(
        actor=manager, action="queue.touch", instance=queue,
        after={"when": moment, "amount": decimal.Decimal("1.10"), "tags": {"b", "a"}},
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.after == {"when": "2026-01-02T03:04:05.678901+00:00", "amount": "1.10", "tags": ["a", "b"]}
    assert event_hash(stored) == stored.hash


def test_time_keeps_microseconds(queue, manager):
    event = audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 1})

    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.created_at == event.created_at


def test_non_finite_number_is_rejected(queue, manager):
    with pytest.raises(ValueError, match="finite"):
        audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": float("nan")})

    assert not AuditEvent.objects.filter(action="queue.touch").exists()


def test_canonical_json_is_sorted_compact_ascii():
    assert canonical_json({"b": 1.0, "a": "é"}) == '{"a":"\\u00e9","b":1}'


def test_service_event_names_token_and_initiator(queue, manager):
    from bookbag.audit.context import audit_context, set_token

    with audit_context(channel="task", initiator_id=manager.pk):
        set_token("abc123")
        queue_update(actor=manager, queue=queue, lease_minutes=50)

    event = AuditEvent.objects.get(action="queue.update")
    assert event.via_token == "abc123"
    assert event.initiator_id == manager.pk
    assert event.channel == "task"
