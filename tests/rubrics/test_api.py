import pytest
from rest_framework.test import APIClient

from reviews.models import QueueMembership
from rubrics.models import Rubric
from tests.api_clients import token_client
from tests.factories import (
    CriterionFactory,
    ManagerFactory,
    MembershipFactory,
    QueueFactory,
    ReviewFactory,
    ReviewItemFactory,
    RubricFactory,
)

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "name": "Helpfulness",
    "slug": "helpfulness",
    "guidelines": "Judge whether the reply solves the user's problem.",
    "criteria": [
        {"key": "correct", "label": "Correct", "kind": "pass_fail"},
        {"key": "tone", "label": "Tone", "kind": "scale", "min": 1, "max": 5, "required": False, "weight": 0.5},
        {"key": "topic", "label": "Topic", "kind": "choice", "options": ["billing", "network"]},
    ],
}


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


def _used_rubric(queue):
    """Return ``queue``'s rubric with one criterion and a review that references it."""
    CriterionFactory(rubric=queue.rubric, key="correct", label="Correct")
    ReviewFactory(item=ReviewItemFactory(queue=queue))
    return queue.rubric


def test_manager_creates_rubric(manager_api):
    response = manager_api.post("/api/v1/rubrics/", PAYLOAD, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1
    assert body["slug"] == "helpfulness"
    assert body["criteria"][1] == {
        "key": "tone", "label": "Tone", "guidance": "", "kind": "scale",
        "min": 1, "max": 5, "options": [], "required": False, "weight": 0.5,
    }
    rubric = Rubric.objects.get(pk=body["id"])
    assert list(rubric.criteria.values_list("key", flat=True)) == ["correct", "tone", "topic"]


def test_create_with_unknown_key_names_it(manager_api):
    response = manager_api.post("/api/v1/rubrics/", {**PAYLOAD, "colour": "red"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("colour: Unknown field 'colour'; the writable fields are name, slug")
    assert not Rubric.objects.exists()


def test_create_with_unknown_criterion_key_names_its_path(manager_api):
    criteria = [PAYLOAD["criteria"][0], {**PAYLOAD["criteria"][1], "colour": "red"}]

    response = manager_api.post("/api/v1/rubrics/", {**PAYLOAD, "criteria": criteria}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("criteria[1].colour: Unknown field 'colour'")


def test_create_with_scale_min_above_max_is_rejected(manager_api):
    criteria = [{"key": "tone", "label": "Tone", "kind": "scale", "min": 5, "max": 1}]

    response = manager_api.post("/api/v1/rubrics/", {**PAYLOAD, "criteria": criteria}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "criteria[0]: Criterion 'tone': min must be below max."


def test_create_with_unknown_kind_is_rejected(manager_api):
    criteria = [{"key": "tone", "label": "Tone", "kind": "stars"}]

    response = manager_api.post("/api/v1/rubrics/", {**PAYLOAD, "criteria": criteria}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == 'criteria[0].kind: "stars" is not a valid choice.'


def test_create_with_taken_slug_is_rejected(manager_api):
    RubricFactory(slug="helpfulness")

    response = manager_api.post("/api/v1/rubrics/", PAYLOAD, format="json")

    assert response.status_code == 400
    assert "slug 'helpfulness' exists already" in response.json()["message"]


def test_patch_criterion_without_label_is_rejected(manager_api, queue):
    response = manager_api.patch(
        f"/api/v1/rubrics/{queue.rubric.pk}/", {"criteria": [{"key": "tone"}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == "criteria[0].label: This field is required."


def test_patch_unused_rubric_edits_in_place(manager_api, queue):
    rubric = queue.rubric

    response = manager_api.patch(f"/api/v1/rubrics/{rubric.pk}/", {"name": "Strict helpfulness"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == rubric.pk
    assert response.json()["version"] == 1
    rubric.refresh_from_db()
    assert rubric.name == "Strict helpfulness"


def test_put_used_rubric_returns_new_version(manager_api, queue):
    rubric = _used_rubric(queue)
    payload = {**PAYLOAD, "slug": rubric.slug}

    response = manager_api.put(f"/api/v1/rubrics/{rubric.pk}/", payload, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert body["id"] != rubric.pk
    assert [criterion["key"] for criterion in body["criteria"]] == ["correct", "tone", "topic"]
    queue.refresh_from_db()
    assert queue.rubric_id == body["id"]


def test_patch_slug_is_rejected(manager_api, queue):
    response = manager_api.patch(f"/api/v1/rubrics/{queue.rubric.pk}/", {"slug": "other"}, format="json")

    assert response.status_code == 400
    assert "cannot change" in response.json()["message"]


def test_delete_unused_rubric(manager_api):
    rubric = RubricFactory()

    response = manager_api.delete(f"/api/v1/rubrics/{rubric.pk}/")

    assert response.status_code == 204
    assert not Rubric.objects.filter(pk=rubric.pk).exists()


def test_delete_rubric_in_use_is_conflict(manager_api, queue):
    response = manager_api.delete(f"/api/v1/rubrics/{queue.rubric.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "rubric_in_use"
    assert response.json()["message"] == (
        f"Rubric {queue.rubric.label} is used by queue {queue.slug!r}; "
        "point the queue at another rubric or delete the queue first."
    )


def test_manager_lists_every_rubric(manager_api, queue):
    other = RubricFactory()

    response = manager_api.get("/api/v1/rubrics/")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {queue.rubric.pk, other.pk}


def test_reviewer_lists_only_their_queue_rubrics(reviewer_api, queue):
    RubricFactory()

    response = reviewer_api.get("/api/v1/rubrics/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [queue.rubric.pk]


def test_reviewer_reads_their_queue_rubric(reviewer_api, queue):
    CriterionFactory(rubric=queue.rubric, key="correct")

    response = reviewer_api.get(f"/api/v1/rubrics/{queue.rubric.pk}/")

    assert response.status_code == 200
    assert response.json()["criteria"][0]["key"] == "correct"


def test_reviewer_gets_404_for_other_rubric(reviewer_api, queue):
    other = RubricFactory()

    response = reviewer_api.get(f"/api/v1/rubrics/{other.pk}/")
    missing = reviewer_api.get("/api/v1/rubrics/999999/")

    assert response.status_code == 404
    assert response.json() == missing.json()


def test_reviewer_token_cannot_create(reviewer_api):
    response = reviewer_api.post("/api/v1/rubrics/", PAYLOAD, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == (
        "This token lacks the 'manage' scope, and its user's role does not allow it; "
        "only managers (the reviews.manage_workspace permission) hold it."
    )


def test_manager_read_token_cannot_edit(manager, queue):
    api = token_client(manager, scopes=["read"])

    response = api.patch(f"/api/v1/rubrics/{queue.rubric.pk}/", {"name": "Changed"}, format="json")

    assert response.status_code == 403
    queue.rubric.refresh_from_db()
    assert queue.rubric.name != "Changed"


def test_token_without_read_scope_cannot_list(reviewer):
    api = token_client(reviewer, scopes=["review"])

    response = api.get("/api/v1/rubrics/")

    assert response.status_code == 403
    assert "'read' scope" in response.json()["message"]


def test_reviewer_session_cannot_create(reviewer):
    api = APIClient()
    api.force_login(reviewer)

    response = api.post("/api/v1/rubrics/", PAYLOAD, format="json")

    assert response.status_code == 403
    assert response.json()["message"].startswith("Your role lacks the 'manage' scope")


def test_second_manager_reads_rubric_of_queue_they_do_not_manage(queue):
    other_manager = ManagerFactory(username="other-manager")
    MembershipFactory(queue=QueueFactory(), user=other_manager, role=QueueMembership.Role.MANAGER)

    response = token_client(other_manager).get(f"/api/v1/rubrics/{queue.rubric.pk}/")

    assert response.status_code == 200
