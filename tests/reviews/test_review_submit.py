import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from bookbag.audit.models import AuditEvent
from bookbag.errors import Conflict, NotFound, PermissionDenied
from reviews.models import Assignment, QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, assignment_release, assignments_expire, review_adjudicate, review_submit
from rubrics.services import rubric_update
from tests.factories import CriterionFactory, MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

ORIGINAL = "Your router is broken; buy a new one."
REWRITE = "Restart the router; if the WAN light stays amber, check the cable."


@pytest.fixture
def item(queue):
    CriterionFactory(rubric=queue.rubric, key="correct")
    return ReviewItemFactory(queue=queue)


@pytest.fixture
def assignment(item, queue, reviewer):
    return assignment_claim(queue=queue, reviewer=reviewer)


@pytest.fixture
def second_reviewer(queue):
    user = UserFactory(username="second-reviewer")
    MembershipFactory(queue=queue, user=user)
    return user


@pytest.fixture
def lead(queue):
    user = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=user, role=QueueMembership.Role.LEAD)
    return user


def _submit(assignment, reviewer, verdict="approved", **fields):
    fields.setdefault("scores", {"correct": verdict == "approved"})
    return review_submit(assignment=assignment, reviewer=reviewer, verdict=verdict, **fields)


def _state(item) -> str:
    item.refresh_from_db()
    return item.state


def test_approved_settles_item_as_reviewed(assignment, reviewer, item):
    review = _submit(assignment, reviewer)

    item.refresh_from_db()
    assert item.state == ReviewItem.State.REVIEWED
    assert item.final_review == review
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.SUBMITTED
    assert AuditEvent.objects.filter(action="review.submit", object_id=str(review.pk)).count() == 1


def test_approved_drops_rewrite_and_reason(assignment, reviewer):
    review = _submit(assignment, reviewer, corrected_response=REWRITE, reason="Looks fine.")

    assert review.corrected_response == ""
    assert review.reason == ""


def test_needs_fix_stores_rewrite(assignment, reviewer, item):
    review = _submit(assignment, reviewer, "needs_fix", corrected_response=REWRITE)

    assert review.corrected_response == REWRITE
    assert _state(item) == ReviewItem.State.REVIEWED


def test_needs_fix_without_rewrite_is_invalid(assignment, reviewer):
    with pytest.raises(ValidationError) as raised:
        _submit(assignment, reviewer, "needs_fix", corrected_response="   ")

    assert raised.value.message_dict == {"corrected_response": ["A needs_fix verdict requires the corrected response."]}
    assert not Review.objects.exists()


def test_needs_fix_with_unchanged_rewrite_is_invalid(assignment, reviewer):
    with pytest.raises(ValidationError, match="same as the original; edit it, or approve"):
        _submit(assignment, reviewer, "needs_fix", corrected_response=f"  {ORIGINAL}\n")

    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.CLAIMED


def test_rejected_stores_reason(assignment, reviewer, item):
    review = _submit(assignment, reviewer, "rejected", reason="Recommends buying hardware without diagnosis.")

    assert review.reason == "Recommends buying hardware without diagnosis."
    assert _state(item) == ReviewItem.State.REVIEWED


def test_rejected_without_reason_is_invalid(assignment, reviewer):
    with pytest.raises(ValidationError) as raised:
        _submit(assignment, reviewer, "rejected")

    assert raised.value.message_dict == {"reason": ["A rejected verdict requires a reason."]}


def test_unknown_verdict_is_invalid(assignment, reviewer):
    with pytest.raises(ValidationError, match="Unknown verdict 'maybe'"):
        _submit(assignment, reviewer, "maybe")


def test_invalid_score_writes_nothing(assignment, reviewer, item):
    with pytest.raises(ValidationError, match="Score for 'correct' must be true or false, not 3."):
        _submit(assignment, reviewer, scores={"correct": 3})

    assert not Review.objects.exists()
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.CLAIMED
    assert _state(item) == ReviewItem.State.IN_REVIEW


def test_missing_required_score_is_invalid(assignment, reviewer):
    with pytest.raises(ValidationError, match="Criterion 'correct' is required"):
        _submit(assignment, reviewer, scores={})


def test_someone_elses_assignment_is_not_found(assignment, second_reviewer):
    with pytest.raises(NotFound, match=f"Assignment {assignment.pk} not found."):
        _submit(assignment, second_reviewer)

    assert not Review.objects.exists()


def test_released_assignment_is_conflict(assignment, reviewer):
    assignment_release(assignment=assignment, reviewer=reviewer)

    with pytest.raises(Conflict, match="is released; claim the item again"):
        _submit(assignment, reviewer)


def test_expired_assignment_is_conflict(assignment, reviewer):
    assignments_expire(now=assignment.expires_at + datetime.timedelta(seconds=1))

    with pytest.raises(Conflict, match="is expired; claim the item again"):
        _submit(assignment, reviewer)


def test_lease_run_out_before_sweep_is_conflict(assignment, reviewer):
    Assignment.objects.filter(pk=assignment.pk).update(
        expires_at=assignment.claimed_at - datetime.timedelta(seconds=1)
    )

    with pytest.raises(Conflict) as raised:
        _submit(assignment, reviewer)

    assert raised.value.code == "lease_expired"
    assert not Review.objects.exists()


def test_submitted_assignment_cannot_be_submitted_again(assignment, reviewer):
    _submit(assignment, reviewer)

    with pytest.raises(Conflict, match="is submitted"):
        _submit(assignment, reviewer)

    assert Review.objects.count() == 1


def test_submitted_assignment_conflict_says_revise(assignment, reviewer):
    review = _submit(assignment, reviewer)

    with pytest.raises(Conflict) as raised:
        _submit(assignment, reviewer)

    assert raised.value.message == (
        f"Assignment {assignment.pk} is submitted as review {review.pk}; to change it, revise the review "
        f"(POST /api/v1/reviews/{review.pk}/revise/ or your review history in the workspace)."
    )
    assert raised.value.code == "assignment_not_claimed"
    assert "claim the item again" not in raised.value.message


def test_overlap_first_review_keeps_item_in_review(queue, item, reviewer):
    queue.reviews_per_item = 2
    queue.save()

    _submit(assignment_claim(queue=queue, reviewer=reviewer), reviewer)

    item.refresh_from_db()
    assert item.state == ReviewItem.State.IN_REVIEW
    assert item.final_review is None


def test_overlap_agreement_settles_reviewed(queue, item, reviewer, second_reviewer):
    queue.reviews_per_item = 2
    queue.save()
    first = _submit(assignment_claim(queue=queue, reviewer=reviewer), reviewer)

    _submit(assignment_claim(queue=queue, reviewer=second_reviewer), second_reviewer)

    item.refresh_from_db()
    assert item.state == ReviewItem.State.REVIEWED
    assert item.final_review == first


def test_overlap_disagreement_goes_to_adjudication(queue, item, reviewer, second_reviewer):
    queue.reviews_per_item = 2
    queue.save()
    _submit(assignment_claim(queue=queue, reviewer=reviewer), reviewer)

    _submit(assignment_claim(queue=queue, reviewer=second_reviewer), second_reviewer, "rejected", reason="Wrong.")

    item.refresh_from_db()
    assert item.state == ReviewItem.State.ADJUDICATION
    assert item.final_review is None


def test_overlap_item_is_not_claimed_twice_by_one_reviewer(queue, item, reviewer):
    queue.reviews_per_item = 2
    queue.save()
    _submit(assignment_claim(queue=queue, reviewer=reviewer), reviewer)

    assert assignment_claim(queue=queue, reviewer=reviewer) is None


def _disputed(queue, item, reviewer, second_reviewer) -> ReviewItem:
    queue.reviews_per_item = 2
    queue.save()
    _submit(assignment_claim(queue=queue, reviewer=reviewer), reviewer)
    _submit(assignment_claim(queue=queue, reviewer=second_reviewer), second_reviewer, "rejected", reason="Wrong.")
    return item


def test_lead_adjudication_is_final(queue, item, reviewer, second_reviewer, lead):
    _disputed(queue, item, reviewer, second_reviewer)

    decision = review_adjudicate(
        item=item, lead=lead, verdict="needs_fix", scores={"correct": False}, corrected_response=REWRITE
    )

    item.refresh_from_db()
    assert item.state == ReviewItem.State.DONE
    assert item.final_review == decision
    assert decision.kind == Review.Kind.ADJUDICATION
    assert decision.assignment is None
    assert AuditEvent.objects.filter(action="review.adjudicate", object_id=str(decision.pk)).count() == 1


def test_adjudication_by_reviewer_is_denied(queue, item, reviewer, second_reviewer):
    _disputed(queue, item, reviewer, second_reviewer)

    with pytest.raises(PermissionDenied, match=f"Only a lead of queue '{queue.slug}' adjudicates"):
        review_adjudicate(item=item, lead=reviewer, verdict="approved", scores={"correct": True})

    assert _state(item) == ReviewItem.State.ADJUDICATION


def test_adjudication_of_undisputed_item_is_conflict(assignment, reviewer, item, lead):
    _submit(assignment, reviewer)

    with pytest.raises(Conflict, match="is reviewed, not awaiting adjudication"):
        review_adjudicate(item=item, lead=lead, verdict="approved", scores={"correct": True})


def test_adjudication_needs_valid_verdict_fields(queue, item, reviewer, second_reviewer, lead):
    _disputed(queue, item, reviewer, second_reviewer)

    with pytest.raises(ValidationError, match="A rejected verdict requires a reason."):
        review_adjudicate(item=item, lead=lead, verdict="rejected", scores={"correct": False})

    assert _state(item) == ReviewItem.State.ADJUDICATION


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_review_during_rubric_edit_scores_against_edited_criteria(queue, item, reviewer, manager):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    outcome = {}

    def submit_old_scores() -> None:
        try:
            _submit(assignment, reviewer, scores={"correct": True})
            outcome["result"] = "saved"
        except ValidationError as error:
            outcome["result"] = error.messages[0]
        finally:
            connection.close()

    with transaction.atomic():
        rubric_update(actor=manager, rubric=queue.rubric, criteria=[{"key": "polite", "label": "Polite"}])
        worker = threading.Thread(target=submit_old_scores)
        worker.start()
        # The edit keeps its lock until this block commits, so the review must wait for it.
        time.sleep(0.5)
        assert "result" not in outcome
    worker.join(timeout=10)

    assert outcome["result"] == f"Unknown criterion 'correct'; rubric {queue.rubric.slug}@1 has polite."
    assert not Review.objects.exists()
