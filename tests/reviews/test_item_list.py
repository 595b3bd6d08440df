import datetime

import pytest
from django.utils import timezone

from reviews.models import ReviewItem
from reviews.selectors import item_list
from tests.factories import QueueFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_item_list_holds_only_member_queues(queue, reviewer):
    mine = ReviewItemFactory(queue=queue)
    ReviewItemFactory(queue=QueueFactory())

    assert list(item_list(user=reviewer)) == [mine]


def test_item_list_for_outsider_is_empty(queue, outsider):
    ReviewItemFactory(queue=queue)

    assert list(item_list(user=outsider)) == []


def test_item_list_filters(queue, reviewer):
    match = ReviewItemFactory(queue=queue, source="bot", model="bot-v2", state=ReviewItem.State.DONE)
    ReviewItemFactory(queue=queue, source="bot", model="bot-v2")
    ReviewItemFactory(queue=queue, source="bot", model="bot-v1", state=ReviewItem.State.DONE)

    items = item_list(user=reviewer, queue=queue.slug, state="done", source="bot", model="bot-v2")

    assert list(items) == [match]


def test_item_list_created_range_bounds(queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    created = ReviewItem.objects.get(pk=item.pk).created_at

    assert list(item_list(user=reviewer, created_after=created)) == [item]
    assert list(item_list(user=reviewer, created_before=created)) == []
    assert list(item_list(user=reviewer, created_before=created + datetime.timedelta(seconds=1))) == [item]


def test_item_list_joins_queue(queue, reviewer, django_assert_num_queries):
    ReviewItemFactory.create_batch(3, queue=queue)

    with django_assert_num_queries(1):
        slugs = [item.queue.slug for item in item_list(user=reviewer)]

    assert slugs == [queue.slug] * 3


def test_item_list_newest_first(queue, reviewer):
    older = ReviewItemFactory(queue=queue)
    ReviewItem.objects.filter(pk=older.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    newer = ReviewItemFactory(queue=queue)

    assert list(item_list(user=reviewer)) == [newer, older]
