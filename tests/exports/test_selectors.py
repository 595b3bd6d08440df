import datetime

import pytest
from django.utils import timezone

from exports.filters import ExportFilters
from exports.models import ExportJob
from exports.selectors import export_item_list, export_job_list
from reviews.models import QueueMembership, Review
from reviews.services import assignment_claim
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
