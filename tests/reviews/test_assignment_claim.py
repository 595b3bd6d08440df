import datetime

import pytest
from django.utils import timezone

from bookbag.errors import NotFound
from reviews.models import Assignment, ReviewItem
from reviews.services import assignment_claim, assignment_release, assignments_expire
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_claim_takes_oldest_pending_item(queue, reviewer):
    first = ReviewItemFactory(queue=queue)
    ReviewItemFactory(queue=queue)

    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    assert assignment.item == first
    assert assignment.state == Assignment.State.CLAIMED
    first.refresh_from_db()
    assert first.state == ReviewItem.State.IN_REVIEW
    assert first.active_assignments == 1


def test_claim_returns_held_assignment(queue, reviewer):
    ReviewItemFactory.create_batch(2, queue=queue)

    first = assignment_claim(queue=queue, reviewer=reviewer)
    again = assignment_claim(queue=queue, reviewer=reviewer)

    assert again.pk == first.pk


def test_claim_on_empty_queue_returns_none(queue, reviewer):
    assert assignment_claim(queue=queue, reviewer=reviewer) is None


def test_claim_by_outsider_is_not_found(queue, outsider):
    ReviewItemFactory(queue=queue)

    with pytest.raises(NotFound):
        assignment_claim(queue=queue, reviewer=outsider)


def test_expired_lease_returns_item_to_pool(queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    expired = assignments_expire(queue=queue, now=assignment.expires_at + datetime.timedelta(seconds=1))

    assert expired == 1
    assignment.refresh_from_db()
    item.refresh_from_db()
    assert assignment.state == Assignment.State.EXPIRED
    assert item.state == ReviewItem.State.PENDING
    assert item.active_assignments == 0


def test_release_frees_item(queue, reviewer):
    item = ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    assignment_release(assignment=assignment, reviewer=reviewer)

    item.refresh_from_db()
    assert item.state == ReviewItem.State.PENDING
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.RELEASED
    assert timezone.now() >= assignment.claimed_at


def test_claim_passes_over_excluded_items(queue, reviewer):
    first, second = ReviewItemFactory.create_batch(2, queue=queue)

    assignment = assignment_claim(queue=queue, reviewer=reviewer, exclude_item_ids=[first.pk])

    assert assignment.item == second


def test_claim_with_only_excluded_items_is_none(queue, reviewer):
    only = ReviewItemFactory(queue=queue)

    assert assignment_claim(queue=queue, reviewer=reviewer, exclude_item_ids=[only.pk]) is None
