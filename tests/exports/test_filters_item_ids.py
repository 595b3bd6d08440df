import pytest
from django.core.exceptions import ValidationError

from bookbag.errors import NotFound
from exports import filters as export_filters
from exports.filters import filters_clean
from exports.selectors import export_item_list
from reviews.models import Review
from tests.factories import QueueFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_item_ids_are_sorted_without_repeats(manager, queue):
    first, second = ReviewItemFactory(queue=queue), ReviewItemFactory(queue=queue)

    filters, _ = filters_clean(requester=manager, raw={"queues": [queue.slug], "item_ids": [second.pk, first.pk,
                                                                                           second.pk]})

    assert filters.item_ids == [first.pk, second.pk]


@pytest.mark.parametrize("value", ["3", [0], [-4], [True], [1.5], ["7"], {"id": 3}])
def test_invalid_item_ids_are_rejected(manager, queue, value):
    with pytest.raises(ValidationError) as error:
        filters_clean(requester=manager, raw={"queues": [queue.slug], "item_ids": value})

    assert error.value.message_dict["item_ids"] == [f"item_ids must be a list of item ids, not {value!r}."]


def test_too_many_item_ids_are_rejected(manager, queue, monkeypatch):
    monkeypatch.setattr(export_filters, "MAX_ITEM_IDS", 2)
    items = [ReviewItemFactory(queue=queue) for _ in range(3)]

    with pytest.raises(ValidationError) as error:
        filters_clean(requester=manager, raw={"queues": [queue.slug], "item_ids": [item.pk for item in items]})

    assert error.value.message_dict["item_ids"] == [
        "item_ids lists 3 items; list at most 2, or select whole queues with the other filters."
    ]


def test_item_outside_exported_queues_is_not_found(manager, queue):
    foreign = ReviewItemFactory(queue=QueueFactory())

    with pytest.raises(NotFound) as error:
        filters_clean(requester=manager, raw={"queues": [queue.slug], "item_ids": [foreign.pk, foreign.pk + 1000]})

    assert error.value.message == (
        f"Item {foreign.pk} not found in the exported queues; check the id and the queues filter."
    )


def test_item_ids_restrict_selected_items(manager, queue, make_reviewed):
    kept = make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.APPROVED)
    filters, _ = filters_clean(requester=manager, raw={"queues": [queue.slug], "item_ids": [kept.pk]})

    assert list(export_item_list(filters=filters)) == [kept]
