"""Blind queues: a reviewer never sees other reviewers' reviews, before or after submitting their own."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from reviews.access import can_see_others_reviews, reviews_visible
from reviews.models import QueueMembership, ReviewItem
from reviews.selectors import item_review_list
from reviews.services import assignment_claim, review_submit
from tests.factories import MembershipFactory, QueueFactory, ReviewItemFactory, UserFactory

THREAD_TIMEOUT_SECONDS = 60


def _queue(*, blind: bool):
    queue = QueueFactory(reviews_per_item=2, blind=blind)
    first, second = UserFactory(username="first"), UserFactory(username="second")
    MembershipFactory(queue=queue, user=first)
    MembershipFactory(queue=queue, user=second)
    return queue, first, second


def _submit(queue, reviewer, verdict="approved"):
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, verdict=verdict,
                         reason="Rude." if verdict == "rejected" else "")


@pytest.mark.django_db
def test_blind_reviewer_sees_no_other_review_before_submitting():
    queue, first, second = _queue(blind=True)
    item = ReviewItemFactory(queue=queue)
    _submit(queue, first)

    assert list(item_review_list(user=second, item=item)) == []
    assert not reviews_visible(second).filter(item=item).exists()
    assert can_see_others_reviews(second, item) is False


@pytest.mark.django_db
def test_blind_reviewer_sees_only_own_after_submitting():
    queue, first, second = _queue(blind=True)
    item = ReviewItemFactory(queue=queue)
    _submit(queue, first)

    own = _submit(queue, second, "rejected")

    assert list(item_review_list(user=second, item=item)) == [own]
    assert list(reviews_visible(second).filter(item=item)) == [own]
    assert can_see_others_reviews(second, item) is False


@pytest.mark.django_db
def test_blind_claim_alone_shows_no_others():
    queue, first, second = _queue(blind=True)
    item = ReviewItemFactory(queue=queue)
    _submit(queue, first)
    assignment_claim(queue=queue, reviewer=second)

    assert list(item_review_list(user=second, item=item)) == []


@pytest.mark.django_db
def test_open_queue_shows_others_before_submitting():
    queue, first, second = _queue(blind=False)
    item = ReviewItemFactory(queue=queue)
    first_review = _submit(queue, first)

    assert list(item_review_list(user=second, item=item)) == [first_review]


@pytest.mark.django_db
def test_lead_sees_every_review_in_blind_queue():
    queue, first, _ = _queue(blind=True)
    lead = UserFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)
    item = ReviewItemFactory(queue=queue)
    first_review = _submit(queue, first)

    assert list(item_review_list(user=lead, item=item)) == [first_review]


@pytest.mark.django_db
def test_outsider_sees_no_reviews(outsider):
    queue, first, _ = _queue(blind=False)
    item = ReviewItemFactory(queue=queue)
    _submit(queue, first)

    assert list(item_review_list(user=outsider, item=item)) == []


def _visible_before_and_after(queue_pk, item_pk, reviewer_pk, first_done: threading.Event, results: dict) -> None:
    try:
        reviewer = get_user_model().objects.get(pk=reviewer_pk)
        item = ReviewItem.objects.select_related("queue").get(pk=item_pk)
        first_done.wait(timeout=THREAD_TIMEOUT_SECONDS)
        results["before"] = list(item_review_list(user=reviewer, item=item).values_list("reviewer_id", flat=True))
        _submit(item.queue, reviewer)
        results["after"] = list(item_review_list(user=reviewer, item=item).values_list("reviewer_id", flat=True))
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        results["error"] = error
    finally:
        connection.close()


def _submit_in_thread(queue_pk, reviewer_pk, first_done: threading.Event, results: dict) -> None:
    try:
        from reviews.models import Queue

        _submit(Queue.objects.get(pk=queue_pk), get_user_model().objects.get(pk=reviewer_pk))
        first_done.set()
    except Exception as error:  # noqa: BLE001 - the main thread reports every failure
        results["first_error"] = error
        first_done.set()
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_blind_mode_holds_across_connections():
    queue, first, second = _queue(blind=True)
    item = ReviewItemFactory(queue=queue)
    first_done = threading.Event()
    results: dict = {}
    threads = [
        threading.Thread(target=_submit_in_thread, args=(queue.pk, first.pk, first_done, results)),
        threading.Thread(target=_visible_before_and_after, args=(queue.pk, item.pk, second.pk, first_done, results)),
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)

    assert "error" not in results
    assert "first_error" not in results
    assert results["before"] == []
    assert results["after"] == [second.pk]
    assert set(item_review_list(user=first, item=item).values_list("reviewer_id", flat=True)) == {first.pk}
