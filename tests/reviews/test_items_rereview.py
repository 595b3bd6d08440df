import pytest

from bookbag.audit.models import AuditEvent
from bookbag.errors import PermissionDenied
from reviews.models import Assignment, Review, ReviewItem
from reviews.selectors import item_stale_rubric_list
from reviews.services import assignment_claim, review_submit
from reviews.services.rereview import items_rereview
from rubrics.services import rubric_update
from tests.factories import CriterionFactory, ReviewItemFactory

pytestmark = pytest.mark.django_db


def _review(queue, reviewer):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={"correct": True})


@pytest.fixture
def reviewed_item(queue, reviewer):
    CriterionFactory(rubric=queue.rubric, key="correct")
    item = ReviewItemFactory(queue=queue)
    _review(queue, reviewer)
    item.refresh_from_db()
    return item


def _new_rubric_version(queue, manager):
    rubric_update(actor=manager, rubric=queue.rubric, guidelines="Also check the tone of the reply.")
    queue.refresh_from_db()


def test_stale_list_names_items_reviewed_under_older_version(queue, manager, reviewed_item):
    ReviewItemFactory(queue=queue)
    _new_rubric_version(queue, manager)

    assert list(item_stale_rubric_list(queue=queue)) == [reviewed_item]


def test_stale_list_is_empty_on_current_version(queue, reviewed_item):
    assert list(item_stale_rubric_list(queue=queue)) == []


def test_rereview_returns_item_to_pool(queue, manager, reviewer, reviewed_item):
    old_review = reviewed_item.final_review
    _new_rubric_version(queue, manager)

    count = items_rereview(actor=manager, items=item_stale_rubric_list(queue=queue))

    reviewed_item.refresh_from_db()
    old_review.refresh_from_db()
    assert count == 1
    assert reviewed_item.state == ReviewItem.State.PENDING
    assert reviewed_item.final_review is None
    assert old_review.is_current is False
    assert Assignment.objects.get(item=reviewed_item).state == Assignment.State.SUPERSEDED
    assert AuditEvent.objects.get(action="item.rereview").after["retired_reviews"] == 1


def test_rereview_lets_same_reviewer_review_again(queue, manager, reviewer, reviewed_item):
    _new_rubric_version(queue, manager)
    items_rereview(actor=manager, items=[reviewed_item])

    new_review = _review(queue, reviewer)

    reviewed_item.refresh_from_db()
    assert reviewed_item.final_review == new_review
    assert new_review.rubric == queue.rubric
    assert Review.objects.filter(item=reviewed_item).count() == 2
    assert list(item_stale_rubric_list(queue=queue)) == []


def test_rereview_leaves_open_items_alone(queue, manager):
    item = ReviewItemFactory(queue=queue)

    assert items_rereview(actor=manager, items=[item]) == 0


def test_rereview_by_reviewer_is_denied(queue, reviewer, reviewed_item):
    with pytest.raises(PermissionDenied):
        items_rereview(actor=reviewer, items=[reviewed_item])


def test_rereview_records_each_retired_review(queue, manager, reviewed_item):
    review = Review.objects.get(item=reviewed_item)

    items_rereview(actor=manager, items=[reviewed_item])

    event = AuditEvent.objects.get(action="review.retire")
    assert event.object_id == str(review.pk)
    assert (event.before, event.after) == ({"is_current": True}, {"is_current": False})
    assert event.actor == manager


def test_rereview_records_each_superseded_assignment(queue, manager, reviewed_item):
    assignment = Assignment.objects.get(item=reviewed_item)

    items_rereview(actor=manager, items=[reviewed_item])

    event = AuditEvent.objects.get(action="assignment.supersede")
    assert event.object_id == str(assignment.pk)
    assert event.after == {"state": Assignment.State.SUPERSEDED}
