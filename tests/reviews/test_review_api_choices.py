import datetime

import pytest
from django.utils import timezone

from reviews.models import Review
from reviews.services import assignment_claim, review_submit
from tests.api_clients import token_client
from tests.factories import MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

TRANSCRIPT = [
    {"role": "user", "content": "My router blinks amber."},
    {"role": "assistant", "content": "Restart it."},
    {"role": "user", "content": "Still amber."},
]
RESPONSE = {"role": "assistant", "content": "Call your provider."}
CANDIDATE_B = {"role": "assistant", "content": "Check the WAN cable, then restart the router."}


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


def claim(api, queue) -> dict:
    response = api.post(f"/api/v1/queues/{queue.pk}/claim/")
    assert response.status_code == 200
    return response.json()


def review_url(assignment_id: int) -> str:
    return f"/api/v1/assignments/{assignment_id}/review/"


def revise_url(review_id: int) -> str:
    return f"/api/v1/reviews/{review_id}/revise/"


def test_claim_exposes_pairwise_candidates(reviewer_api, queue):
    ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)

    item = claim(reviewer_api, queue)["item"]

    assert item["is_pairwise"] is True
    assert item["turn_selectable"] is False
    assert item["candidates"] == [{"preferred": "a", "message": RESPONSE}, {"preferred": "b", "message": CANDIDATE_B}]
    assert item["selectable_turns"] == []


def test_claim_exposes_selectable_turns(reviewer_api, queue):
    ReviewItemFactory(queue=queue, conversation=TRANSCRIPT, response=RESPONSE, turn_selectable=True)

    item = claim(reviewer_api, queue)["item"]

    assert item["turn_selectable"] is True
    assert item["selectable_turns"] == [1, 3]
    assert item["candidates"] == []


def test_claim_hides_gold_answer(reviewer_api, queue):
    ReviewItemFactory(queue=queue, is_gold=True, gold_verdict="needs_fix", gold_corrected_response="The secret answer.")

    item = claim(reviewer_api, queue)["item"]

    assert not any(key.startswith("gold") or key == "is_gold" for key in item)
    assert "The secret answer." not in str(item)


def test_submit_stores_turn_index(reviewer_api, queue):
    ReviewItemFactory(queue=queue, conversation=TRANSCRIPT, response=RESPONSE, turn_selectable=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved", "turn_index": 1}, format="json")

    assert response.status_code == 201
    assert response.json()["turn_index"] == 1
    assert Review.objects.get().turn_index == 1


def test_submit_rejects_user_turn(reviewer_api, queue):
    item = ReviewItemFactory(queue=queue, conversation=TRANSCRIPT, response=RESPONSE, turn_selectable=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved", "turn_index": 2}, format="json")

    assert response.status_code == 400
    message = f"Turn 2 of item {item.pk} is not an assistant turn; choose one of [1, 3]."
    assert response.json()["errors"] == {"turn_index": [message]}
    assert not Review.objects.exists()


def test_submit_rejects_negative_turn(reviewer_api, queue):
    ReviewItemFactory(queue=queue, conversation=TRANSCRIPT, response=RESPONSE, turn_selectable=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved", "turn_index": -1}, format="json")

    assert response.status_code == 400
    assert "turn_index" in response.json()["errors"]
    assert not Review.objects.exists()


def test_submit_stores_preference(reviewer_api, queue):
    ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved", "preferred": "b"}, format="json")

    assert response.status_code == 201
    assert response.json()["preferred"] == "b"


def test_submit_pairwise_requires_pick(reviewer_api, queue):
    item = ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "preferred": [f"Item {item.pk} is pairwise; set preferred to a (response) or b (reference)."]
    }
    assert not Review.objects.exists()


def test_submit_rejects_unknown_pick(reviewer_api, queue):
    ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)
    assignment = claim(reviewer_api, queue)

    response = reviewer_api.post(review_url(assignment["id"]), {"verdict": "approved", "preferred": "c"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == 'preferred: "c" is not a valid choice.'


@pytest.fixture
def submitted(queue, reviewer) -> Review:
    ReviewItemFactory(queue=queue)
    assignment = assignment_claim(queue=queue, reviewer=reviewer)
    return review_submit(assignment=assignment, reviewer=reviewer, verdict="approved")


def test_revise_creates_revision(reviewer_api, submitted):
    response = reviewer_api.post(revise_url(submitted.pk), {"verdict": "rejected", "reason": "Wrong."}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "rejected"
    assert body["supersedes"] == submitted.pk
    assert body["is_current"] is True
    submitted.refresh_from_db()
    assert submitted.is_current is False


def test_revise_after_window_conflicts(reviewer_api, submitted):
    assignment = submitted.assignment
    assignment.finished_at = timezone.now() - datetime.timedelta(hours=2)
    assignment.save(update_fields=["finished_at"])

    response = reviewer_api.post(revise_url(submitted.pk), {"verdict": "rejected", "reason": "Wrong."}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "edit_window_closed"
    assert Review.objects.count() == 1


def test_revise_validation_error(reviewer_api, submitted):
    response = reviewer_api.post(revise_url(submitted.pk), {"verdict": "rejected"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["A rejected verdict requires a reason."]}
    assert Review.objects.count() == 1


def test_revise_others_review_not_found(queue, submitted):
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)

    response = token_client(colleague).post(revise_url(submitted.pk), {"verdict": "approved"}, format="json")

    assert response.status_code == 404
    assert Review.objects.count() == 1


def test_revise_needs_review_scope(reviewer, submitted):
    response = token_client(reviewer, scopes=["read"]).post(revise_url(submitted.pk), {"verdict": "approved"}, format="json")

    assert response.status_code == 403
    assert Review.objects.count() == 1


def test_review_list_shows_own_only(reviewer_api, queue, submitted):
    colleague = UserFactory(username="colleague")
    MembershipFactory(queue=queue, user=colleague)
    ReviewItemFactory(queue=queue)
    review_submit(assignment=assignment_claim(queue=queue, reviewer=colleague), reviewer=colleague, verdict="approved")

    response = reviewer_api.get("/api/v1/reviews/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [submitted.pk]


def test_review_list_query_count_is_constant(reviewer_api, queue, reviewer, submitted, django_assert_num_queries):
    reviewer_api.get("/api/v1/reviews/")
    # Token with its user, the token's last-use update, and one page of reviews.
    with django_assert_num_queries(3) as one_review:
        reviewer_api.get("/api/v1/reviews/")
    for _ in range(4):
        ReviewItemFactory(queue=queue)
        review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer, verdict="approved")

    with django_assert_num_queries(len(one_review.captured_queries)):
        response = reviewer_api.get("/api/v1/reviews/")

    assert len(response.json()["results"]) == 5
