import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import PermissionDenied
from reviews.models import Assignment, ReviewItem
from reviews.services import assignment_assign, assignment_claim, assignment_release, item_priority_set, review_submit
from tests.factories import ManagerFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_assign_reserves_items_for_reviewer(queue, manager, reviewer):
    items = ReviewItemFactory.create_batch(3, queue=queue)

    result = assignment_assign(actor=manager, items=items, reviewer=reviewer)

    assert len(result.assigned) == 3
    assert result.skipped == {}
    assert {assignment.state for assignment in result.assigned} == {Assignment.State.RESERVED}
    assert {assignment.assigned_by for assignment in result.assigned} == {manager}
    assert set(ReviewItem.objects.values_list("active_assignments", flat=True)) == {1}


def test_assign_writes_audit_event_per_item(queue, manager, reviewer):
    items = ReviewItemFactory.create_batch(2, queue=queue)

    assignment_assign(actor=manager, items=items, reviewer=reviewer)

    assert AuditEvent.objects.filter(action="assignment.assign").count() == 2


def test_reserved_item_is_claimed_first(queue, manager, reviewer):
    ReviewItemFactory(queue=queue, priority=5)
    reserved_item = ReviewItemFactory(queue=queue)
    assignment_assign(actor=manager, items=[reserved_item], reviewer=reviewer)

    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    assert assignment.item == reserved_item
    assert assignment.state == Assignment.State.CLAIMED
    assert assignment.expires_at is not None


def test_reserved_item_is_hidden_from_other_reviewers(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue)
    assignment_assign(actor=manager, items=[item], reviewer=reviewer)
    other = UserFactory(username="other")
    queue.memberships.create(user=other)

    assert assignment_claim(queue=queue, reviewer=other) is None


def test_reserved_claim_can_be_reviewed(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue)
    assignment_assign(actor=manager, items=[item], reviewer=reviewer)

    review = review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer,
                           verdict="approved")

    item.refresh_from_db()
    assert item.final_review == review


def test_released_reservation_returns_to_pool(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue)
    assignment_assign(actor=manager, items=[item], reviewer=reviewer)
    assignment_release(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer)

    item.refresh_from_db()
    assert item.active_assignments == 0
    assert item.state == ReviewItem.State.PENDING


def test_assign_skips_full_item(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue)
    other = UserFactory(username="other")
    queue.memberships.create(user=other)
    assignment_claim(queue=queue, reviewer=other)

    result = assignment_assign(actor=manager, items=[item], reviewer=reviewer)

    assert result.assigned == ()
    assert result.skipped == {item.pk: f"all 1 review slots of item {item.pk} are taken"}


def test_assign_skips_item_already_held(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue)
    queue.reviews_per_item = 2
    queue.save()
    assignment_assign(actor=manager, items=[item], reviewer=reviewer)

    result = assignment_assign(actor=manager, items=[item], reviewer=reviewer)

    assert "already assigned" in result.skipped[item.pk]


def test_assign_skips_reviewed_item(queue, manager, reviewer):
    item = ReviewItemFactory(queue=queue, state=ReviewItem.State.DONE)

    result = assignment_assign(actor=manager, items=[item], reviewer=reviewer)

    assert result.skipped == {item.pk: f"item {item.pk} is done, not open for review"}


def test_assign_to_non_member_is_invalid(queue, manager, outsider):
    item = ReviewItemFactory(queue=queue)

    with pytest.raises(ValidationError) as error:
        assignment_assign(actor=manager, items=[item], reviewer=outsider)

    assert "'outsider' is not a member" in str(error.value)
    assert not Assignment.objects.exists()


def test_assign_in_unmanaged_queue_is_denied(reviewer):
    stranger = ManagerFactory(username="stranger-manager")
    item = ReviewItemFactory(queue=QueueFactory())

    with pytest.raises(PermissionDenied):
        assignment_assign(actor=stranger, items=[item], reviewer=reviewer)


def test_assign_by_reviewer_is_denied(queue, reviewer):
    item = ReviewItemFactory(queue=queue)

    with pytest.raises(PermissionDenied):
        assignment_assign(actor=reviewer, items=[item], reviewer=reviewer)


def test_priority_decides_claim_order(queue, manager, reviewer):
    ReviewItemFactory(queue=queue)
    urgent = ReviewItemFactory(queue=queue)

    changed = item_priority_set(actor=manager, items=[urgent], priority=10)

    assert changed == 1
    assert assignment_claim(queue=queue, reviewer=reviewer).item == urgent
    assert AuditEvent.objects.get(action="item.prioritize").after == {"priority": 10}


def test_priority_unchanged_writes_nothing(queue, manager):
    item = ReviewItemFactory(queue=queue, priority=3)

    assert item_priority_set(actor=manager, items=[item], priority=3) == 0
    assert not AuditEvent.objects.filter(action="item.prioritize").exists()


def test_priority_must_be_integer(queue, manager):
    item = ReviewItemFactory(queue=queue)

    with pytest.raises(ValidationError):
        item_priority_set(actor=manager, items=[item], priority="high")


def test_priority_by_reviewer_is_denied(queue, reviewer):
    item = ReviewItemFactory(queue=queue)

    with pytest.raises(PermissionDenied):
        item_priority_set(actor=reviewer, items=[item], priority=1)


def test_assign_rejects_unqueued_item(queue, reviewer):
    admin = UserFactory(username="admin", is_superuser=True)
    item = ReviewItemFactory(queue=None)

    with pytest.raises(ValidationError, match=f"Item {item.pk} has no queue"):
        assignment_assign(actor=admin, items=[item], reviewer=reviewer)

    assert not Assignment.objects.exists()
