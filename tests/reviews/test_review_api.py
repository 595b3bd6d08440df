import pytest

from reviews.models import Assignment, Review, ReviewItem
from reviews.services import assignment_claim
from tests.api_clients import token_client
from tests.factories import CriterionFactory, MembershipFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


@pytest.fixture
def assignment(queue, reviewer):
    CriterionFactory(rubric=queue.rubric, key="correct")
    ReviewItemFactory(queue=queue)
    return assignment_claim(queue=queue, reviewer=reviewer)


def _review_url(assignment: Assignment) -> str:
    return f"/api/v1/assignments/{assignment.pk}/review/"


def test_submit_approved_returns_review(reviewer_api, assignment):
    response = reviewer_api.post(
        _review_url(assignment),
        {"verdict": "approved", "scores": {"correct": True}, "time_spent_seconds": 42},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "approved"
    assert body["scores"] == {"correct": True}
    assert body["reviewer"] == "reviewer"
    assert body["rubric_version"] == 1
    assert body["time_spent_seconds"] == 42
    item = ReviewItem.objects.get(pk=assignment.item_id)
    assert item.state == ReviewItem.State.REVIEWED
    assert item.final_review_id == body["id"]


def test_submit_needs_fix_keeps_rewrite(reviewer_api, assignment):
    rewrite = "  Restart the router, then check the WAN cable.\n"

    response = reviewer_api.post(
        _review_url(assignment),
        {"verdict": "needs_fix", "scores": {"correct": False}, "corrected_response": rewrite},
        format="json",
    )

    assert response.status_code == 201
    assert Review.objects.get(pk=response.json()["id"]).corrected_response == rewrite


def test_submit_needs_fix_without_rewrite_is_rejected(reviewer_api, assignment):
    response = reviewer_api.post(
        _review_url(assignment), {"verdict": "needs_fix", "scores": {"correct": False}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == "A needs_fix verdict requires the corrected response."
    assert response.json()["errors"] == {
        "corrected_response": ["A needs_fix verdict requires the corrected response."]
    }
    assert not Review.objects.exists()


def test_submit_unknown_verdict_is_rejected(reviewer_api, assignment):
    response = reviewer_api.post(_review_url(assignment), {"verdict": "great"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == 'verdict: "great" is not a valid choice.'


def test_submit_with_unknown_key_names_it(reviewer_api, assignment):
    response = reviewer_api.post(
        _review_url(assignment), {"verdict": "approved", "scores": {"correct": True}, "comment": "ok"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("comment: Unknown field 'comment'")
    assert not Review.objects.exists()


def test_submit_with_invalid_score_is_rejected(reviewer_api, assignment):
    response = reviewer_api.post(
        _review_url(assignment), {"verdict": "approved", "scores": {"correct": "yes"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == "Score for 'correct' must be true or false, not 'yes'."


def test_submit_negative_time_spent_is_rejected(reviewer_api, assignment):
    response = reviewer_api.post(
        _review_url(assignment),
        {"verdict": "approved", "scores": {"correct": True}, "time_spent_seconds": -5},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["message"] == "time_spent_seconds: Ensure this value is greater than or equal to 0."


def test_someone_elses_assignment_answers_like_missing_one(queue, assignment):
    other = UserFactory(username="other-reviewer")
    MembershipFactory(queue=queue, user=other)
    api = token_client(other)
    payload = {"verdict": "approved", "scores": {"correct": True}}

    hidden = api.post(_review_url(assignment), payload, format="json")
    missing = api.post("/api/v1/assignments/999999/review/", payload, format="json")

    assert hidden.status_code == 404
    assert hidden.json() == missing.json()
    assert not Review.objects.exists()


def test_submit_on_released_assignment_is_conflict(reviewer_api, assignment):
    reviewer_api.post(f"/api/v1/assignments/{assignment.pk}/release/")

    response = reviewer_api.post(
        _review_url(assignment), {"verdict": "approved", "scores": {"correct": True}}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "assignment_not_claimed"


def test_submit_without_review_scope_is_403(reviewer, assignment):
    api = token_client(reviewer, scopes=["read"])

    response = api.post(_review_url(assignment), {"verdict": "approved", "scores": {"correct": True}}, format="json")

    assert response.status_code == 403
    assert not Review.objects.exists()


def test_release_returns_released_assignment(reviewer_api, assignment):
    response = reviewer_api.post(f"/api/v1/assignments/{assignment.pk}/release/")

    assert response.status_code == 200
    assert response.json()["state"] == "released"
    assert ReviewItem.objects.get(pk=assignment.item_id).state == ReviewItem.State.PENDING


def test_release_twice_is_conflict(reviewer_api, assignment):
    reviewer_api.post(f"/api/v1/assignments/{assignment.pk}/release/")

    response = reviewer_api.post(f"/api/v1/assignments/{assignment.pk}/release/")

    assert response.status_code == 409
    assert response.json()["message"] == (
        f"Assignment {assignment.pk} is released, not claimed; there is nothing to release."
    )


def test_list_shows_only_own_assignments(reviewer_api, queue, assignment):
    other = UserFactory(username="other-reviewer")
    MembershipFactory(queue=queue, user=other)
    ReviewItemFactory(queue=queue)
    assignment_claim(queue=queue, reviewer=other)

    response = reviewer_api.get("/api/v1/assignments/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [assignment.pk]


def test_list_filters_by_state(reviewer_api, assignment):
    claimed = reviewer_api.get("/api/v1/assignments/?state=claimed")
    released = reviewer_api.get("/api/v1/assignments/?state=released")

    assert [row["id"] for row in claimed.json()["results"]] == [assignment.pk]
    assert released.json()["results"] == []


def test_list_filter_on_other_queue_is_empty(reviewer_api, assignment):
    response = reviewer_api.get(f"/api/v1/assignments/?queue={assignment.queue_id + 1000}")

    assert response.status_code == 200
    assert response.json()["results"] == []
