import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews.models import Assignment, Queue, QueueMembership
from tests.api_clients import token_client
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, RubricFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


@pytest.fixture
def payload(db):
    UserFactory(username="ana")
    UserFactory(username="lee")
    return {
        "name": "Support replies",
        "slug": "support",
        "rubric": RubricFactory().pk,
        "reviewers": ["ana"],
        "leads": ["lee"],
        "reviews_per_item": 2,
        "lease_minutes": 15,
        "blind": False,
    }


def test_manager_creates_queue(manager_api, payload):
    response = manager_api.post("/api/v1/queues/", payload, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["reviewers"] == ["ana"]
    assert body["leads"] == ["lee"]
    assert body["managers"] == ["manager"]
    assert body["reviews_per_item"] == 2
    assert body["blind"] is False
    queue = Queue.objects.get(pk=body["id"])
    assert queue.created_by.username == "manager"
    assert queue.lease_minutes == 15


def test_create_with_unknown_key_names_it(manager_api, payload):
    response = manager_api.post("/api/v1/queues/", {**payload, "overlap": 2}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("overlap: Unknown field 'overlap'")
    assert not Queue.objects.filter(slug="support").exists()


def test_create_with_unknown_reviewer_is_rejected(manager_api, payload):
    response = manager_api.post("/api/v1/queues/", {**payload, "reviewers": ["ana", "ghost"]}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "User 'ghost' not found; create the account first."
    assert not Queue.objects.filter(slug="support").exists()


def test_create_with_unknown_rubric_is_rejected(manager_api, payload):
    response = manager_api.post("/api/v1/queues/", {**payload, "rubric": 999999}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == 'rubric: Invalid pk "999999" - object does not exist.'


def test_create_with_too_many_reviews_per_item_is_rejected(manager_api, payload):
    response = manager_api.post("/api/v1/queues/", {**payload, "reviews_per_item": 11}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "reviews_per_item: Ensure this value is less than or equal to 10."


def test_reviewer_token_cannot_create(reviewer_api, payload):
    response = reviewer_api.post("/api/v1/queues/", payload, format="json")

    assert response.status_code == 403
    assert not Queue.objects.filter(slug="support").exists()


def test_reviewer_lists_only_their_queues(reviewer_api, queue):
    QueueFactory()

    response = reviewer_api.get("/api/v1/queues/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [queue.pk]
    assert response.json()["results"][0]["reviewers"] == ["reviewer"]


def test_outsider_gets_404_like_missing_queue(outsider, queue):
    api = token_client(outsider)

    hidden = api.get(f"/api/v1/queues/{queue.pk}/")
    missing = api.get("/api/v1/queues/999999/")

    assert hidden.status_code == 404
    assert hidden.json() == missing.json()


def test_queue_list_queries_do_not_grow_with_rows(manager, manager_api):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager_api.get("/api/v1/queues/").status_code == 200
        return len(queries)

    def add_queue() -> None:
        queue = QueueFactory()
        MembershipFactory(queue=queue, user=manager, role=QueueMembership.Role.MANAGER)
        MembershipFactory.create_batch(3, queue=queue)

    add_queue()
    baseline = count_queries()
    for _ in range(4):
        add_queue()

    assert count_queries() == baseline


def test_manager_patches_settings_and_reviewers(manager_api, queue, reviewer):
    UserFactory(username="ana")

    response = manager_api.patch(
        f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 5, "reviewers": ["ana"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["reviewers"] == ["ana"]
    assert response.json()["lease_minutes"] == 5
    assert not queue.memberships.filter(user=reviewer).exists()


def test_manager_patches_edit_window_and_threshold(manager_api, queue):
    response = manager_api.patch(
        f"/api/v1/queues/{queue.pk}/", {"edit_window_minutes": 15, "disagreement_threshold": 0.5}, format="json"
    )

    assert response.status_code == 200
    queue.refresh_from_db()
    assert queue.edit_window_minutes == 15
    assert queue.disagreement_threshold == 0.5


def test_patch_slug_is_rejected(manager_api, queue):
    response = manager_api.patch(f"/api/v1/queues/{queue.pk}/", {"slug": "renamed"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Field 'slug' of a queue cannot be changed."


def test_manager_of_other_queue_gets_404(queue):
    other = ManagerFactory(username="other-manager")

    response = token_client(other).patch(f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 5}, format="json")

    assert response.status_code == 404


def test_lead_who_is_manager_elsewhere_cannot_patch(queue):
    lead = ManagerFactory(username="lead")
    MembershipFactory(queue=queue, user=lead, role=QueueMembership.Role.LEAD)

    response = token_client(lead).patch(f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 5}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == f"You do not manage queue {queue.slug!r}."


def test_delete_empty_queue(manager_api, queue):
    response = manager_api.delete(f"/api/v1/queues/{queue.pk}/")

    assert response.status_code == 204
    assert not Queue.objects.filter(pk=queue.pk).exists()


def test_delete_queue_with_items_is_conflict(manager_api, queue):
    ReviewItemFactory(queue=queue)

    response = manager_api.delete(f"/api/v1/queues/{queue.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "queue_not_empty"


def test_claim_returns_assignment_with_item(reviewer_api, queue):
    item = ReviewItemFactory(queue=queue, metadata={"channel": "chat"})

    response = reviewer_api.post(f"/api/v1/queues/{queue.pk}/claim/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == Assignment.objects.get(item=item).pk
    assert body["expires_at"]
    assert body["rubric"] == queue.rubric_id
    assert body["item"] == {
        "id": item.pk,
        "source": "tests",
        "external_id": item.external_id,
        "conversation": item.conversation,
        "response": item.response,
        "reference_response": None,
        "model": "test-model",
        "metadata": {"channel": "chat"},
        "is_pairwise": False,
        "turn_selectable": False,
        "candidates": [],
        "selectable_turns": [],
    }


def test_claim_on_empty_queue_returns_204(reviewer_api, queue):
    response = reviewer_api.post(f"/api/v1/queues/{queue.pk}/claim/")

    assert response.status_code == 204
    assert response.content == b""


def test_claim_by_outsider_is_404(outsider, queue):
    ReviewItemFactory(queue=queue)

    response = token_client(outsider).post(f"/api/v1/queues/{queue.pk}/claim/")

    assert response.status_code == 404
    assert not Assignment.objects.exists()


def test_claim_without_review_scope_is_403(reviewer, queue):
    ReviewItemFactory(queue=queue)

    response = token_client(reviewer, scopes=["read"]).post(f"/api/v1/queues/{queue.pk}/claim/")

    assert response.status_code == 403
    assert response.json()["message"] == "This token lacks the 'review' scope; create a token with --scope review."
    assert not Assignment.objects.exists()


def test_claim_on_paused_queue_is_conflict(reviewer_api, queue):
    ReviewItemFactory(queue=queue)
    Queue.objects.filter(pk=queue.pk).update(is_active=False)

    response = reviewer_api.post(f"/api/v1/queues/{queue.pk}/claim/")

    assert response.status_code == 409
    assert response.json()["code"] == "queue_inactive"
