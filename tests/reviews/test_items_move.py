import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import PermissionDenied
from reviews.models import ReviewItem
from reviews.services import assignment_claim, items_move
from tests.factories import QueueFactory, ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def unqueued():
    return ReviewItemFactory.create_batch(2, queue=None)


def test_move_puts_unqueued_items_in_queue(admin_user, unqueued, queue):
    result = items_move(actor=admin_user, items=unqueued, queue=queue)

    assert result.moved == 2
    assert result.skipped == {}
    assert ReviewItem.objects.filter(queue=queue).count() == 2


def test_move_records_event_per_item(admin_user, unqueued, queue):
    items_move(actor=admin_user, items=unqueued, queue=queue)

    events = AuditEvent.objects.filter(action="item.move").order_by("object_id")
    assert [event.object_id for event in events] == sorted(str(item.pk) for item in unqueued)
    assert events[0].before == {"queue": None}
    assert events[0].after == {"queue": queue.pk}
    assert events[0].actor == admin_user


def test_move_skips_item_in_queue(admin_user, queue):
    other = QueueFactory(slug="other")
    item = ReviewItemFactory(queue=other)

    result = items_move(actor=admin_user, items=[item], queue=queue)

    assert result.moved == 0
    assert result.skipped == {item.pk: f"item {item.pk} is already in queue 'other'"}
    item.refresh_from_db()
    assert item.queue == other


def test_move_skips_item_with_reviews(admin_user, queue):
    item = ReviewItemFactory(queue=None)
    ReviewFactory(item=item, rubric=queue.rubric)

    result = items_move(actor=admin_user, items=[item], queue=queue)

    assert result.moved == 0
    assert result.skipped == {item.pk: f"item {item.pk} already has reviews"}
    assert ReviewItem.objects.get(pk=item.pk).queue is None


def test_move_writes_no_event_for_skipped(admin_user, queue):
    items_move(actor=admin_user, items=[ReviewItemFactory(queue=queue)], queue=queue)

    assert not AuditEvent.objects.filter(action="item.move").exists()


@pytest.mark.parametrize("role", ["manager", "reviewer"])
def test_move_denied_to_non_admin(request, role, unqueued, queue):
    user = request.getfixturevalue(role)

    with pytest.raises(PermissionDenied, match="Only an admin moves items"):
        items_move(actor=user, items=unqueued, queue=queue)

    assert ReviewItem.objects.filter(queue__isnull=True).count() == 2


def test_move_denied_to_inactive_admin(unqueued, queue):
    inactive = UserFactory(is_superuser=True, is_active=False)

    with pytest.raises(PermissionDenied):
        items_move(actor=inactive, items=unqueued, queue=queue)


def test_move_rejects_inactive_queue(admin_user, unqueued):
    closed = QueueFactory(slug="closed", is_active=False)

    with pytest.raises(ValidationError, match="Queue 'closed' is inactive"):
        items_move(actor=admin_user, items=unqueued, queue=closed)

    assert ReviewItem.objects.filter(queue__isnull=True).count() == 2


def test_moved_item_can_be_claimed(admin_user, unqueued, queue, reviewer):
    items_move(actor=admin_user, items=unqueued[:1], queue=queue)

    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    assert assignment.item_id == unqueued[0].pk
