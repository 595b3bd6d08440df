import datetime

import pytest
from django.utils import timezone

from exports.filters import ExportFilters
from exports.models import ExportJob
from exports.selectors import export_item_list, export_job_list
from reviews.models import QueueMembership, Review, ReviewItem
from reviews.services import assignment_claim, review_adjudicate, review_submit
from rubrics.models import Rubric
from tests.exports.conftest import AMBER_FIX
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _filters(queue, **overrides) -> ExportFilters:
    values = {"queues": [queue.slug], "verdicts": [], "reviewers": [], "rubric_versions": []}
    return ExportFilters(**{**values, **overrides})


def _ids(items) -> list[int]:
    return [item.pk for item in items]


def test_only_final_reviews_are_listed(queue, reviewer, make_reviewed):
    reviewed = make_reviewed(Review.Verdict.APPROVED)
    ReviewItemFactory(queue=queue)
    assignment_claim(queue=queue, reviewer=reviewer)

    assert _ids(export_item_list(filters=_filters(queue))) == [reviewed.pk]


def test_items_of_other_queues_are_left_out(queue, make_reviewed):
    mine = make_reviewed(Review.Verdict.APPROVED)
    other = QueueFactory()
    other_reviewer = UserFactory(username="other-reviewer")
    MembershipFactory(queue=other, user=other_reviewer)
    make_reviewed(Review.Verdict.APPROVED, item_queue=other, reviewer_user=other_reviewer)

    assert _ids(export_item_list(filters=_filters(queue))) == [mine.pk]


def test_items_are_ordered_by_id(queue, make_reviewed):
    items = [make_reviewed(Review.Verdict.APPROVED) for _ in range(3)]

    assert _ids(export_item_list(filters=_filters(queue))) == sorted(_ids(items))


def test_verdict_filter(queue, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED)
    fixed = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)
    make_reviewed(Review.Verdict.REJECTED)

    assert _ids(export_item_list(filters=_filters(queue, verdicts=["needs_fix"]))) == [fixed.pk]


def test_reviewer_filter_uses_usernames(queue, make_reviewed):
    second = UserFactory(username="second-reviewer")
    MembershipFactory(queue=queue, user=second, role=QueueMembership.Role.REVIEWER)
    make_reviewed(Review.Verdict.APPROVED)
    theirs = make_reviewed(Review.Verdict.APPROVED, reviewer_user=second)

    assert _ids(export_item_list(filters=_filters(queue, reviewers=["second-reviewer"]))) == [theirs.pk]


def test_rubric_version_filter(queue, make_reviewed):
    first = make_reviewed(Review.Verdict.APPROVED)
    next_version = Rubric.objects.create(name="Helpfulness", slug=queue.rubric.slug, version=2)
    queue.rubric = next_version
    queue.save()
    second = make_reviewed(Review.Verdict.APPROVED)

    assert _ids(export_item_list(filters=_filters(queue, rubric_versions=[f"{queue.rubric.slug}@2"]))) == [second.pk]
    assert _ids(export_item_list(filters=_filters(queue, rubric_versions=[f"{queue.rubric.slug}@1"]))) == [first.pk]


def test_review_window_is_half_open(queue, make_reviewed):
    early, late = make_reviewed(Review.Verdict.APPROVED), make_reviewed(Review.Verdict.APPROVED)
    moment = timezone.now().replace(microsecond=0)
    Review.objects.filter(item=early).update(submitted_at=moment - datetime.timedelta(hours=1))
    Review.objects.filter(item=late).update(submitted_at=moment)

    before = export_item_list(filters=_filters(queue, reviewed_before=moment.isoformat()))
    after = export_item_list(filters=_filters(queue, reviewed_after=moment.isoformat()))

    assert _ids(before) == [early.pk]
    assert _ids(after) == [late.pk]


def test_since_export_keeps_later_reviews(queue, manager, make_reviewed):
    earlier = make_reviewed(Review.Verdict.APPROVED)
    job = ExportJob.objects.create(requester=manager)
    Review.objects.filter(item=earlier).update(submitted_at=job.created_at - datetime.timedelta(seconds=1))
    later = make_reviewed(Review.Verdict.APPROVED)
    Review.objects.filter(item=later).update(submitted_at=job.created_at + datetime.timedelta(seconds=1))

    assert _ids(export_item_list(filters=_filters(queue, since_export=job.pk))) == [later.pk]


def test_item_list_joins_review_rubric_and_reviewer(queue, make_reviewed, django_assert_num_queries):
    make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.APPROVED)

    with django_assert_num_queries(1):
        for item in export_item_list(filters=_filters(queue)):
            assert item.queue.slug
            assert item.final_review.rubric.slug
            assert item.final_review.reviewer.username


def test_job_list_holds_own_jobs_only(manager):
    mine = ExportJob.objects.create(requester=manager)
    ExportJob.objects.create(requester=ManagerFactory(username="someone-else"))

    assert list(export_job_list(requester=manager)) == [mine]


def test_source_filter(queue, make_reviewed):
    mine = make_reviewed(Review.Verdict.APPROVED, source="support-bot")
    make_reviewed(Review.Verdict.APPROVED, source="sales-bot")

    assert _ids(export_item_list(filters=_filters(queue, sources=["support-bot"]))) == [mine.pk]


def test_model_filter(queue, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED, model="acme-7b")
    large = make_reviewed(Review.Verdict.APPROVED, model="acme-70b")

    assert _ids(export_item_list(filters=_filters(queue, models=["acme-70b"]))) == [large.pk]


@pytest.fixture
def overlap_queue(queue, reviewer):
    """The test queue with two reviews per item, a second reviewer and a lead."""
    queue.reviews_per_item = 2
    queue.save()
    second = UserFactory(username="second-reviewer")
    MembershipFactory(queue=queue, user=second, role=QueueMembership.Role.REVIEWER)
    lead = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)
    return queue, [reviewer, second], lead


def _review_twice(queue, reviewers, verdicts) -> ReviewItem:
    item = ReviewItemFactory(queue=queue)
    for reviewer, verdict in zip(reviewers, verdicts):
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        review_submit(assignment=assignment, reviewer=reviewer, verdict=verdict,
                      reason="Wrong." if verdict == Review.Verdict.REJECTED else "")
    item.refresh_from_db()
    return item


def test_agreed_or_adjudicated_filter(overlap_queue, make_reviewed):
    queue, reviewers, lead = overlap_queue
    agreed = _review_twice(queue, reviewers, [Review.Verdict.APPROVED, Review.Verdict.APPROVED])
    disputed = _review_twice(queue, reviewers, [Review.Verdict.APPROVED, Review.Verdict.REJECTED])
    decided = _review_twice(queue, reviewers, [Review.Verdict.APPROVED, Review.Verdict.REJECTED])
    review_adjudicate(item=decided, lead=lead, verdict=Review.Verdict.APPROVED)
    queue.reviews_per_item = 1
    queue.save()
    single = make_reviewed(Review.Verdict.APPROVED)

    everything = export_item_list(filters=_filters(queue))
    consensus = export_item_list(filters=_filters(queue, agreed_or_adjudicated=True))

    assert disputed.state == ReviewItem.State.ADJUDICATION
    assert _ids(everything) == [agreed.pk, decided.pk, single.pk]
    assert _ids(consensus) == [agreed.pk, decided.pk]


def test_since_export_counts_when_item_was_finalised(overlap_queue, manager):
    queue, reviewers, _ = overlap_queue
    item = ReviewItemFactory(queue=queue)
    first = assignment_claim(queue=queue, reviewer=reviewers[0])
    review_submit(assignment=first, reviewer=reviewers[0], verdict=Review.Verdict.APPROVED)
    job = ExportJob.objects.create(requester=manager, started_at=timezone.now())
    Review.objects.filter(item=item).update(submitted_at=job.started_at - datetime.timedelta(seconds=5))
    second = assignment_claim(queue=queue, reviewer=reviewers[1])
    review_submit(assignment=second, reviewer=reviewers[1], verdict=Review.Verdict.APPROVED)
    item.refresh_from_db()

    selected = export_item_list(filters=_filters(queue, since_export=job.pk))

    # The final review is the first one, from before the job; the item was only finalised after it.
    assert item.final_review.submitted_at < job.started_at
    assert _ids(selected) == [item.pk]


def test_since_export_starts_at_build_start(queue, manager, make_reviewed):
    job = ExportJob.objects.create(requester=manager)
    ExportJob.objects.filter(pk=job.pk).update(started_at=job.created_at + datetime.timedelta(minutes=10))
    during_queue_wait = make_reviewed(Review.Verdict.APPROVED)
    Review.objects.filter(item=during_queue_wait).update(submitted_at=job.created_at + datetime.timedelta(minutes=5))

    assert _ids(export_item_list(filters=_filters(queue, since_export=job.pk))) == []
