import pytest
from django.db import connection

from bookbag.audit.models import AuditEvent
from bookbag.errors import NotFound
from reviews.ingest.records import record_build
from reviews.models import ReviewItem
from reviews.services import IngestConflict, items_ingest
from tests.factories import QueueFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


def make_record(text: str = "Restart the router.", *, external_id: str | None = None, label: str = ""):
    return record_build(
        conversation=[{"role": "user", "content": "The WAN light blinks amber."}],
        response={"role": "assistant", "content": text},
        source="tests",
        external_id=external_id,
        label=label,
    )


def test_ingest_creates_items(queue, manager):
    records = [make_record("Restart it."), make_record("Call your provider.")]

    result = items_ingest(queue=queue, records=records, actor=manager)

    assert (result.created, result.duplicates) == (2, 0)
    items = ReviewItem.objects.filter(queue=queue).order_by("id")
    assert [item.response["content"] for item in items] == ["Restart it.", "Call your provider."]
    assert [outcome.id for outcome in result.outcomes] == [item.pk for item in items]
    assert all(item.created_by == manager for item in items)
    assert all(item.state == ReviewItem.State.PENDING for item in items)


def test_ingest_stores_content_hash_as_default_id(queue, manager):
    record = make_record()

    items_ingest(queue=queue, records=[record], actor=manager)

    item = ReviewItem.objects.get()
    assert item.external_id == item.content_hash == record.content_hash


def test_ingest_writes_audit_event_per_item(queue, manager):
    result = items_ingest(queue=queue, records=[make_record("A."), make_record("B.")], actor=manager)

    events = AuditEvent.objects.filter(action="item.create").order_by("id")
    assert [int(event.object_id) for event in events] == [outcome.id for outcome in result.outcomes]
    assert all(event.actor == manager for event in events)
    assert events[0].after["queue"] == queue.pk
    assert events[0].after["source"] == "tests"


def test_ingest_twice_reports_duplicates(queue, manager):
    first = items_ingest(queue=queue, records=[make_record()], actor=manager)

    again = items_ingest(queue=queue, records=[make_record()], actor=manager)

    assert (again.created, again.duplicates) == (0, 1)
    assert again.outcomes[0].id == first.outcomes[0].id
    assert again.outcomes[0].created is False
    assert ReviewItem.objects.count() == 1
    assert AuditEvent.objects.filter(action="item.create").count() == 1


def test_duplicate_inside_one_batch(queue, manager):
    result = items_ingest(queue=queue, records=[make_record(), make_record()], actor=manager)

    assert [outcome.created for outcome in result.outcomes] == [True, False]
    assert result.outcomes[0].id == result.outcomes[1].id
    assert ReviewItem.objects.count() == 1


def test_same_id_with_other_content_is_conflict(queue, manager):
    items_ingest(queue=queue, records=[make_record("A.", external_id="t-1")], actor=manager)
    stored = ReviewItem.objects.get()

    with pytest.raises(IngestConflict) as caught:
        items_ingest(
            queue=queue,
            records=[make_record("New.", external_id="t-2"), make_record("B.", external_id="t-1", label="line 2")],
            actor=manager,
        )

    assert caught.value.reasons == {1: (
        f"source 'tests' and external_id 't-1' already belong to item {stored.pk} with a different "
        "conversation or response; imports never change stored items, so give this item a new external_id"
    )}
    assert list(caught.value.message_dict) == ["line 2.external_id"]
    assert ReviewItem.objects.count() == 1


def test_same_id_in_other_queue_is_conflict(queue, manager):
    ReviewItemFactory(queue=QueueFactory(), source="tests", external_id="t-1")

    with pytest.raises(IngestConflict) as caught:
        items_ingest(queue=queue, records=[make_record(external_id="t-1")], actor=manager)

    assert caught.value.reasons[0] == (
        "source 'tests' and external_id 't-1' already belong to an item in another queue; "
        "give this item a different external_id or source"
    )


def test_same_id_with_other_content_in_one_batch(queue, manager):
    records = [make_record("A.", external_id="t-1", label="line 1"), make_record("B.", external_id="t-1")]

    with pytest.raises(IngestConflict) as caught:
        items_ingest(queue=queue, records=records, actor=manager)

    assert caught.value.reasons == {1: (
        "source 'tests' and external_id 't-1' are also used by line 1 with a different conversation "
        "or response; give each item its own external_id"
    )}
    assert ReviewItem.objects.count() == 0


def test_reviewer_cannot_ingest(queue, reviewer):
    with pytest.raises(NotFound) as caught:
        items_ingest(queue=queue, records=[make_record()], actor=reviewer)

    assert caught.value.message.startswith(f"Queue {queue.slug!r} not found among the queues you manage")
    assert ReviewItem.objects.count() == 0


def test_system_actor_may_ingest(queue):
    result = items_ingest(queue=queue, records=[make_record()], actor=None)

    assert result.created == 1
    assert ReviewItem.objects.get().created_by is None
    assert AuditEvent.objects.get(action="item.create").actor is None


def test_empty_batch_writes_nothing(queue, manager):
    assert items_ingest(queue=queue, records=[], actor=manager).outcomes == ()


@pytest.mark.parametrize("size", [1, 20])
def test_query_count_is_flat(queue, manager, django_assert_num_queries, size):
    records = [make_record(f"Reply {n}.") for n in range(size)]
    items_ingest(queue=queue, records=[make_record("An earlier reply.")], actor=manager)

    # Two savepoints with their releases, the membership read (the earlier
    # import cached the permissions), the key lookup and one bulk insert.
    # Then the chain lock (PostgreSQL only), the chain head read, one event
    # insert and one queue link insert, however many items there are.
    chain_lock = 1 if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(7 + chain_lock + 3):
        items_ingest(queue=queue, records=records, actor=manager)
