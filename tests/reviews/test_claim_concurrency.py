"""Ten reviewers claim and review a 50-item queue at once; no item is claimed or reviewed twice.

Each reviewer runs in its own thread, so each has its own database connection.
"""

import sqlite3
import threading
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from reviews.models import Assignment, Queue, Review, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.factories import MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

ITEM_COUNT = 50
REVIEWER_COUNT = 10
THREAD_TIMEOUT_SECONDS = 120


def _queue_with_reviewers() -> tuple[int, list[int]]:
    queue = QueueFactory(reviews_per_item=1)
    reviewers = [UserFactory(username=f"parallel-{number}") for number in range(REVIEWER_COUNT)]
    for reviewer in reviewers:
        MembershipFactory(queue=queue, user=reviewer)
    ReviewItemFactory.create_batch(ITEM_COUNT, queue=queue)
    return queue.pk, [reviewer.pk for reviewer in reviewers]


def _claim_and_review(queue_pk: int, reviewer_pk: int, start: threading.Barrier, claimed: list, errors: list) -> None:
    """Claim and approve items until the queue has none left for this reviewer."""
    try:
        queue = Queue.objects.get(pk=queue_pk)
        reviewer = get_user_model().objects.get(pk=reviewer_pk)
        start.wait(timeout=THREAD_TIMEOUT_SECONDS)
        while (assignment := assignment_claim(queue=queue, reviewer=reviewer)) is not None:
            claimed.append(assignment.item_id)
            review_submit(assignment=assignment, reviewer=reviewer, verdict="approved", scores={})
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        errors.append(error)
    finally:
        connection.close()


def _run_reviewers(queue_pk: int, reviewer_pks: list[int]) -> tuple[list[int], list[Exception]]:
    start = threading.Barrier(len(reviewer_pks))
    claimed: list[int] = []
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_claim_and_review, args=(queue_pk, reviewer_pk, start, claimed, errors))
        for reviewer_pk in reviewer_pks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    assert [thread.name for thread in threads if thread.is_alive()] == []
    return claimed, errors


def _outcome(queue_pk: int) -> dict:
    items = ReviewItem.objects.filter(queue_id=queue_pk)
    return {
        "item_ids": set(items.values_list("pk", flat=True)),
        "item_states": Counter(items.values_list("state", flat=True)),
        "reviews_per_item": Counter(Review.objects.filter(item__queue_id=queue_pk).values_list("item_id", flat=True)),
        "assignment_states": Counter(Assignment.objects.filter(queue_id=queue_pk).values_list("state", flat=True)),
    }


def _in_thread(function, *args):
    """Return ``function(*args)`` run on a new thread, and so on a new database connection."""
    results = []

    def run() -> None:
        try:
            results.append(function(*args))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    return results[0]


def _assert_each_item_reviewed_once(claimed: list[int], errors: list[Exception], outcome: dict) -> None:
    assert errors == []
    assert len(claimed) == ITEM_COUNT
    assert len(set(claimed)) == ITEM_COUNT
    assert set(claimed) == outcome["item_ids"]
    assert set(outcome["reviews_per_item"].values()) == {1}
    assert len(outcome["reviews_per_item"]) == ITEM_COUNT
    assert outcome["item_states"] == {ReviewItem.State.REVIEWED: ITEM_COUNT}
    assert outcome["assignment_states"] == {Assignment.State.SUBMITTED: ITEM_COUNT}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_claims_never_overlap():
    queue_pk, reviewer_pks = _queue_with_reviewers()

    claimed, errors = _run_reviewers(queue_pk, reviewer_pks)

    _assert_each_item_reviewed_once(claimed, errors, _outcome(queue_pk))


@pytest.fixture
def sqlite_file_database(tmp_path):
    """Send every connection opened from now on to a file copy of the in-memory test database.

    Django's in-memory test database uses SQLite's shared cache, where a
    thread that meets a lock fails at once ("database table is locked")
    instead of waiting out the busy timeout. A file database waits as
    production does. The main thread keeps its in-memory connection, which
    SQLite never closes, so teardown flushes the original.
    """
    path = tmp_path / "claims.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()

    settings = connection.settings_dict
    in_memory_name = settings["NAME"]
    settings["NAME"] = str(path)
    try:
        yield path
    finally:
        settings["NAME"] = in_memory_name


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_claims_never_overlap(request):
    queue_pk, reviewer_pks = _queue_with_reviewers()
    request.getfixturevalue("sqlite_file_database")

    claimed, errors = _run_reviewers(queue_pk, reviewer_pks)

    _assert_each_item_reviewed_once(claimed, errors, _in_thread(_outcome, queue_pk))


def _claim_once(queue_pk: int, reviewer_pk: int, start: threading.Barrier, claimed: list, errors: list) -> None:
    try:
        queue = Queue.objects.get(pk=queue_pk)
        reviewer = get_user_model().objects.get(pk=reviewer_pk)
        start.wait(timeout=THREAD_TIMEOUT_SECONDS)
        claimed.append(assignment_claim(queue=queue, reviewer=reviewer).pk)
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_one_reviewer_parallel_claims_share_item():
    queue_pk, reviewer_pks = _queue_with_reviewers()
    start = threading.Barrier(5)
    claimed: list[int] = []
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_claim_once, args=(queue_pk, reviewer_pks[0], start, claimed, errors))
        for _ in range(5)
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)

    assert errors == []
    assert len(claimed) == 5
    assert len(set(claimed)) == 1
    assert Assignment.objects.filter(queue_id=queue_pk, state=Assignment.State.CLAIMED).count() == 1
