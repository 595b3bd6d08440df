"""Twelve reviewers claim and review a queue with three reviews per item, each on its own connection.

Every item must end with exactly three reviews by three different
reviewers in slots 1, 2 and 3, however the claims and submits interleave.
"""

import threading
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reviews.models import Assignment, Queue, Review, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.factories import AssignmentFactory, MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

ITEM_COUNT = 20
REVIEWER_COUNT = 12
REVIEWS_PER_ITEM = 3
THREAD_TIMEOUT_SECONDS = 120
# A claim can return None while the items a reviewer still needs are locked by
# another transaction for a moment, so the reviewer retries up to this many times.
EMPTY_CLAIM_RETRIES = 20


def _queue_with_reviewers() -> tuple[int, list[int]]:
    queue = QueueFactory(reviews_per_item=REVIEWS_PER_ITEM)
    reviewers = [UserFactory(username=f"overlap-{number}") for number in range(REVIEWER_COUNT)]
    for reviewer in reviewers:
        MembershipFactory(queue=queue, user=reviewer)
    ReviewItemFactory.create_batch(ITEM_COUNT, queue=queue)
    return queue.pk, [reviewer.pk for reviewer in reviewers]


def _still_open_for(queue: Queue, reviewer) -> bool:
    reviewed = Assignment.objects.filter(reviewer=reviewer, state=Assignment.State.SUBMITTED).values("item_id")
    return ReviewItem.objects.filter(
        queue=queue, state__in=[ReviewItem.State.PENDING, ReviewItem.State.IN_REVIEW]
    ).exclude(pk__in=reviewed).exists()


def _review_until_done(queue_pk: int, reviewer_pk: int, start: threading.Barrier, errors: list) -> None:
    try:
        queue = Queue.objects.get(pk=queue_pk)
        reviewer = get_user_model().objects.get(pk=reviewer_pk)
        start.wait(timeout=THREAD_TIMEOUT_SECONDS)
        empty_claims = 0
        while empty_claims < EMPTY_CLAIM_RETRIES:
            assignment = assignment_claim(queue=queue, reviewer=reviewer)
            if assignment is None:
                empty_claims = empty_claims + 1 if _still_open_for(queue, reviewer) else EMPTY_CLAIM_RETRIES
                continue
            review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={})
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        errors.append(error)
    finally:
        connection.close()


def _run(queue_pk: int, reviewer_pks: list[int]) -> list[Exception]:
    start = threading.Barrier(len(reviewer_pks))
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_review_until_done, args=(queue_pk, reviewer_pk, start, errors))
        for reviewer_pk in reviewer_pks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    assert [thread.name for thread in threads if thread.is_alive()] == []
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_overlap_gives_each_item_exactly_k_reviews():
    queue_pk, reviewer_pks = _queue_with_reviewers()

    errors = _run(queue_pk, reviewer_pks)

    assert errors == []
    reviewers_by_item = defaultdict(list)
    for item_id, reviewer_id in Review.objects.filter(item__queue_id=queue_pk).values_list("item_id", "reviewer_id"):
        reviewers_by_item[item_id].append(reviewer_id)
    assert len(reviewers_by_item) == ITEM_COUNT
    assert {len(reviewers) for reviewers in reviewers_by_item.values()} == {REVIEWS_PER_ITEM}
    assert {len(set(reviewers)) for reviewers in reviewers_by_item.values()} == {REVIEWS_PER_ITEM}
    slots = Counter(
        Assignment.objects.filter(queue_id=queue_pk, state=Assignment.State.SUBMITTED).values_list("slot", flat=True)
    )
    assert slots == {1: ITEM_COUNT, 2: ITEM_COUNT, 3: ITEM_COUNT}
    states = Counter(ReviewItem.objects.filter(queue_id=queue_pk).values_list("state", flat=True))
    assert states == {ReviewItem.State.REVIEWED: ITEM_COUNT}


def _claim_one(queue_pk: int, reviewer_pk: int, start: threading.Barrier, claimed: list, errors: list) -> None:
    try:
        queue = Queue.objects.get(pk=queue_pk)
        reviewer = get_user_model().objects.get(pk=reviewer_pk)
        start.wait(timeout=THREAD_TIMEOUT_SECONDS)
        assignment = assignment_claim(queue=queue, reviewer=reviewer)
        claimed.append(assignment.item_id if assignment else None)
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_one_item_parallel_claims_fill_slots():
    queue = QueueFactory(reviews_per_item=REVIEWS_PER_ITEM)
    reviewers = [UserFactory(username=f"single-{number}") for number in range(REVIEWER_COUNT)]
    for reviewer in reviewers:
        MembershipFactory(queue=queue, user=reviewer)
    item = ReviewItemFactory(queue=queue)
    start = threading.Barrier(REVIEWER_COUNT)
    claimed: list = []
    errors: list = []
    threads = [
        threading.Thread(target=_claim_one, args=(queue.pk, reviewer.pk, start, claimed, errors))
        for reviewer in reviewers
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)

    assert errors == []
    live = Assignment.objects.filter(item=item, state=Assignment.State.CLAIMED)
    assert live.count() <= REVIEWS_PER_ITEM
    assert sorted(live.values_list("slot", flat=True)) == list(range(1, live.count() + 1))
    assert claimed.count(item.pk) == live.count()
    item.refresh_from_db()
    assert item.active_assignments == live.count()


@pytest.mark.django_db
def test_database_rejects_second_live_assignment_in_slot():
    first = AssignmentFactory(slot=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(item=first.item, slot=2)


@pytest.mark.django_db
def test_database_allows_slot_reuse_after_release():
    first = AssignmentFactory(slot=1, state=Assignment.State.RELEASED, finished_at=timezone.now())

    second = AssignmentFactory(item=first.item, slot=1)

    assert second.slot == 1


@pytest.mark.django_db
def test_database_rejects_slot_out_of_range():
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(slot=11)
