import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import PermissionDenied
from reviews.models import ReviewItem
from reviews.selectors import gold_accuracy_list
from reviews.services import assignment_claim, review_submit
from reviews.services.gold import item_mark_gold, item_unmark_gold
from tests.api_clients import token_client
from tests.factories import MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

GOLD_REWRITE = "Restart the router; if the WAN light stays amber, check the cable."


def _payload_keys(value) -> set[str]:
    """Return every key of a nested JSON payload, so a gold field cannot hide at any depth."""
    if isinstance(value, dict):
        return set(value) | {key for child in value.values() for key in _payload_keys(child)}
    if isinstance(value, list):
        return {key for child in value for key in _payload_keys(child)}
    return set()


def test_mark_gold_stores_answer(queue, manager):
    item = ReviewItemFactory(queue=queue)

    changed = item_mark_gold(actor=manager, items=[item], verdict="needs_fix", corrected_response=GOLD_REWRITE)

    item.refresh_from_db()
    assert changed == 1
    assert item.is_gold is True
    assert item.gold_verdict == "needs_fix"
    assert item.gold_corrected_response == GOLD_REWRITE
    assert AuditEvent.objects.get(action="item.mark_gold").after["gold_verdict"] == "needs_fix"


def test_mark_gold_needs_fix_without_rewrite_is_invalid(queue, manager):
    item = ReviewItemFactory(queue=queue)

    with pytest.raises(ValidationError) as error:
        item_mark_gold(actor=manager, items=[item], verdict="needs_fix")

    assert "corrected response" in str(error.value)
    item.refresh_from_db()
    assert item.is_gold is False


def test_mark_gold_unknown_verdict_is_invalid(queue, manager):
    with pytest.raises(ValidationError):
        item_mark_gold(actor=manager, items=[ReviewItemFactory(queue=queue)], verdict="fine")


def test_mark_gold_pairwise_needs_preference(queue, manager):
    item = ReviewItemFactory(queue=queue, is_pairwise=True, reference_response={"role": "assistant", "content": "B"})

    with pytest.raises(ValidationError):
        item_mark_gold(actor=manager, items=[item], verdict="approved")


def test_mark_gold_by_reviewer_is_denied(queue, reviewer):
    with pytest.raises(PermissionDenied):
        item_mark_gold(actor=reviewer, items=[ReviewItemFactory(queue=queue)], verdict="approved")


def test_unmark_gold_clears_answer(queue, manager):
    item = ReviewItemFactory(queue=queue)
    item_mark_gold(actor=manager, items=[item], verdict="approved")

    assert item_unmark_gold(actor=manager, items=[item]) == 1

    item.refresh_from_db()
    assert (item.is_gold, item.gold_verdict) == (False, "")


def test_claim_payload_of_gold_item_matches_plain_item(queue, manager, reviewer):
    plain = ReviewItemFactory(queue=queue)
    gold = ReviewItemFactory(queue=queue)
    item_mark_gold(actor=manager, items=[gold], verdict="needs_fix", corrected_response=GOLD_REWRITE)
    client = token_client(reviewer)

    first = client.post(f"/api/v1/queues/{queue.pk}/claim/").json()
    client.post(f"/api/v1/assignments/{first['id']}/release/")
    ReviewItem.objects.filter(pk=first["item"]["id"]).update(priority=-1)
    second = client.post(f"/api/v1/queues/{queue.pk}/claim/").json()

    payloads = {payload["item"]["id"]: payload for payload in (first, second)}
    assert set(payloads) == {plain.pk, gold.pk}
    assert _payload_keys(payloads[gold.pk]) == _payload_keys(payloads[plain.pk])
    assert not any("gold" in key for key in _payload_keys(payloads[gold.pk]))
    assert GOLD_REWRITE not in str(payloads[gold.pk])


def _review(queue, reviewer, **judgement):
    return review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer, **judgement)


def test_gold_accuracy_per_reviewer(queue, manager, reviewer):
    queue.reviews_per_item = 2
    queue.save()
    second = UserFactory(username="second")
    MembershipFactory(queue=queue, user=second)
    golds = ReviewItemFactory.create_batch(2, queue=queue)
    item_mark_gold(actor=manager, items=golds[:1], verdict="approved")
    item_mark_gold(actor=manager, items=golds[1:], verdict="needs_fix", corrected_response=GOLD_REWRITE)
    ReviewItemFactory(queue=queue, priority=-1)
    _review(queue, reviewer, verdict="approved")
    _review(queue, reviewer, verdict="needs_fix", corrected_response=GOLD_REWRITE + " Then call us.")
    _review(queue, second, verdict="rejected", reason="Rude.")
    _review(queue, second, verdict="needs_fix", corrected_response="Call your provider now.")
    _review(queue, second, verdict="approved")

    rows = gold_accuracy_list(queue=queue)

    assert [(row.username, row.gold_reviews, row.correct) for row in rows] == [("reviewer", 2, 2), ("second", 2, 0)]
    assert rows[0].accuracy == 1.0
    assert rows[1].accuracy == 0.0
