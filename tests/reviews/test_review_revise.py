import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookbag.audit.models import AuditEvent
from bookbag.errors import Conflict, NotFound
from reviews.models import QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, review_adjudicate, review_revise, review_submit
from tests.factories import MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

REWRITE = "Restart the router; if the WAN light stays amber, check the cable."


@pytest.fixture
def item(queue):
    return ReviewItemFactory(queue=queue)


@pytest.fixture
def review(item, queue, reviewer):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, verdict="approved")


def test_revise_keeps_old_revision(review, reviewer):
    revision = review_revise(review=review, reviewer=reviewer, verdict="needs_fix", corrected_response=REWRITE)

    review.refresh_from_db()
    assert review.is_current is False
    assert revision.is_current is True
    assert revision.supersedes == review
    assert Review.objects.filter(item=review.item).count() == 2


def test_revise_moves_assignment_to_revision(review, reviewer):
    assignment_id = review.assignment_id

    revision = review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    review.refresh_from_db()
    assert revision.assignment_id == assignment_id
    assert review.assignment_id is None


def test_revise_makes_revision_final(review, reviewer, item):
    revision = review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    item.refresh_from_db()
    assert item.final_review == revision
    assert item.state == ReviewItem.State.REVIEWED


def test_revise_writes_audit_event(review, reviewer):
    revision = review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    event = AuditEvent.objects.get(action="review.revise", object_id=str(revision.pk))
    assert event.before["verdict"] == "approved"
    assert event.after["verdict"] == "rejected"


def test_revise_after_window_is_conflict(review, reviewer, queue):
    queue.edit_window_minutes = 5
    queue.save()
    review.assignment.finished_at = timezone.now() - datetime.timedelta(minutes=6)
    review.assignment.save()

    with pytest.raises(Conflict) as error:
        review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    assert error.value.code == "edit_window_closed"
    assert "5 minutes" in str(error.value)


def test_revise_with_zero_window_is_conflict(review, reviewer, queue):
    queue.edit_window_minutes = 0
    queue.save()

    with pytest.raises(Conflict) as error:
        review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    assert error.value.code == "edit_window_closed"


def test_window_counts_from_first_submission(review, reviewer, queue):
    queue.edit_window_minutes = 5
    queue.save()
    revision = review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")
    revision.assignment.finished_at = timezone.now() - datetime.timedelta(minutes=6)
    revision.assignment.save()

    with pytest.raises(Conflict):
        review_revise(review=revision, reviewer=reviewer, verdict="approved")


def test_revise_old_revision_is_conflict(review, reviewer):
    review_revise(review=review, reviewer=reviewer, verdict="rejected", reason="Wrong advice.")

    with pytest.raises(Conflict) as error:
        review_revise(review=review, reviewer=reviewer, verdict="approved")

    assert error.value.code == "review_not_current"


def test_revise_someone_elses_review_is_not_found(review, queue):
    other = UserFactory(username="other-reviewer")
    MembershipFactory(queue=queue, user=other)

    with pytest.raises(NotFound):
        review_revise(review=review, reviewer=other, verdict="approved")


def test_revise_invalid_rewrite_keeps_review(review, reviewer):
    with pytest.raises(ValidationError):
        review_revise(review=review, reviewer=reviewer, verdict="needs_fix", corrected_response="")

    review.refresh_from_db()
    assert review.is_current is True


def test_revise_after_adjudication_is_conflict(queue, item, reviewer, manager):
    queue.reviews_per_item = 2
    queue.save()
    second = UserFactory(username="second")
    MembershipFactory(queue=queue, user=second, role=QueueMembership.Role.REVIEWER)
    first_review = review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer,
                                 verdict="approved")
    review_submit(assignment=assignment_claim(queue=queue, reviewer=second), reviewer=second,
                  verdict="rejected", reason="Rude.")
    review_adjudicate(item=item, lead=manager, verdict="approved")

    with pytest.raises(Conflict) as error:
        review_revise(review=first_review, reviewer=reviewer, verdict="rejected", reason="Rude.")

    assert error.value.code == "item_decided"


def test_revision_can_resolve_disagreement(queue, item, reviewer):
    queue.reviews_per_item = 2
    queue.save()
    second = UserFactory(username="second")
    MembershipFactory(queue=queue, user=second)
    review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer, verdict="approved")
    disputed = review_submit(assignment=assignment_claim(queue=queue, reviewer=second), reviewer=second,
                             verdict="rejected", reason="Rude.")
    item.refresh_from_db()
    assert item.state == ReviewItem.State.ADJUDICATION

    review_revise(review=disputed, reviewer=second, verdict="approved")

    item.refresh_from_db()
    assert item.state == ReviewItem.State.REVIEWED
