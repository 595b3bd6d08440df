"""Agreement and disagreement between the reviews of one item."""

import pytest

from bookbag.audit.models import AuditEvent
from reviews.models import QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, review_adjudicate, review_submit
from reviews.services.settling import review_agreed, reviews_disagree
from tests.factories import MembershipFactory, QueueFactory, ReviewFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

REWRITE = "Restart the router and check that the WAN cable is plugged in firmly."
CLOSE_REWRITE = "Restart the router and check that the WAN cable is plugged in."
FAR_REWRITE = "Call your provider; the line may be down in your area."


@pytest.fixture
def overlap_queue(manager):
    queue = QueueFactory(reviews_per_item=3, disagreement_threshold=0.2)
    MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
    return queue


@pytest.fixture
def reviewers(overlap_queue):
    users = [UserFactory(username=f"judge-{number}") for number in range(3)]
    for user in users:
        MembershipFactory(queue=overlap_queue, user=user)
    return users


def _review_all(queue, reviewers, judgements) -> ReviewItem:
    item = ReviewItemFactory(queue=queue)
    for reviewer, judgement in zip(reviewers, judgements, strict=True):
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        review_submit(assignment=assignment, reviewer=reviewer, **judgement)
    item.refresh_from_db()
    return item


def _fix(text: str) -> dict:
    return {"verdict": "needs_fix", "corrected_response": text}


def test_same_verdicts_settle_reviewed_with_earliest(overlap_queue, reviewers):
    item = _review_all(overlap_queue, reviewers, [{"verdict": "approved"}] * 3)

    assert item.state == ReviewItem.State.REVIEWED
    assert item.final_review.reviewer == reviewers[0]


def test_different_verdicts_go_to_adjudication(overlap_queue, reviewers):
    judgements = [{"verdict": "approved"}, {"verdict": "approved"}, {"verdict": "rejected", "reason": "Rude."}]

    item = _review_all(overlap_queue, reviewers, judgements)

    assert item.state == ReviewItem.State.ADJUDICATION
    assert item.final_review is None


def test_close_rewrites_agree_on_the_central_one(overlap_queue, reviewers):
    item = _review_all(overlap_queue, reviewers, [_fix(CLOSE_REWRITE), _fix(REWRITE), _fix(REWRITE)])

    assert item.state == ReviewItem.State.REVIEWED
    assert item.final_review.reviewer == reviewers[1]
    assert item.final_review.corrected_response == REWRITE


def test_distant_rewrites_go_to_adjudication(overlap_queue, reviewers):
    item = _review_all(overlap_queue, reviewers, [_fix(REWRITE), _fix(REWRITE), _fix(FAR_REWRITE)])

    assert item.state == ReviewItem.State.ADJUDICATION


def test_threshold_one_accepts_any_rewrites(overlap_queue, reviewers):
    overlap_queue.disagreement_threshold = 1.0
    overlap_queue.save()

    item = _review_all(overlap_queue, reviewers, [_fix(REWRITE), _fix(REWRITE), _fix(FAR_REWRITE)])

    assert item.state == ReviewItem.State.REVIEWED


def test_settle_writes_audit_event(overlap_queue, reviewers):
    item = _review_all(overlap_queue, reviewers, [{"verdict": "approved"}] * 3)

    event = AuditEvent.objects.get(action="item.settle", object_id=str(item.pk))
    assert event.after == {"state": "reviewed", "final_review": item.final_review_id}


def test_adjudication_decision_is_final_review(overlap_queue, reviewers, manager):
    item = _review_all(overlap_queue, reviewers, [_fix(REWRITE), _fix(REWRITE), _fix(FAR_REWRITE)])

    decision = review_adjudicate(item=item, lead=manager, verdict="needs_fix", corrected_response=FAR_REWRITE)

    item.refresh_from_db()
    assert item.state == ReviewItem.State.DONE
    assert item.final_review == decision
    assert decision.kind == Review.Kind.ADJUDICATION


def test_different_preferences_disagree():
    item = ReviewItemFactory.build(is_pairwise=True)
    first = ReviewFactory.build(item=item, verdict="approved", preferred="a")
    second = ReviewFactory.build(item=item, verdict="approved", preferred="b")

    assert reviews_disagree([first, second], threshold=1.0)


def test_different_turns_disagree():
    item = ReviewItemFactory.build(turn_selectable=True)
    first = ReviewFactory.build(item=item, verdict="approved", turn_index=1)
    second = ReviewFactory.build(item=item, verdict="approved", turn_index=3)

    assert reviews_disagree([first, second], threshold=1.0)


def test_agreed_rejections_pick_earliest():
    item = ReviewItemFactory.build()
    reviews = [ReviewFactory.build(item=item, verdict="rejected", reason=reason) for reason in ("Rude.", "Wrong.")]

    assert review_agreed(reviews) is reviews[0]
