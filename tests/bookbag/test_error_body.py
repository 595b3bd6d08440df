"""Every API error has the same body: ``{"code", "message", "errors"}``."""

import pytest
from rest_framework.test import APIClient

from tests.api_clients import token_client
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "message", "errors"}


def test_serializer_error_body(manager):
    response = token_client(manager).post("/api/v1/rubrics/", {"slug": "helpfulness"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "name: This field is required.",
        "errors": {"name": ["This field is required."]},
    }


def test_nested_serializer_error_names_its_path(manager):
    payload = {"name": "Helpfulness", "slug": "helpfulness", "criteria": [{"key": "correct", "label": "Correct"}, {}]}

    response = token_client(manager).post("/api/v1/rubrics/", payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["message"] == "criteria[1].key: This field is required."


def test_service_validation_error_body(manager, queue):
    payload = {"name": "Other", "slug": "other", "rubric": queue.rubric.pk, "reviewers": ["ghost"]}

    response = token_client(manager).post("/api/v1/queues/", payload, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "unknown_user",
        "message": "User 'ghost' not found; create the account first.",
        "errors": {"non_field_errors": ["User 'ghost' not found; create the account first."]},
    }


def test_not_authenticated_body(db):
    response = APIClient().get("/api/v1/rubrics/")

    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS


def test_permission_denied_body(reviewer):
    response = token_client(reviewer).post("/api/v1/rubrics/", {}, format="json")

    assert response.status_code == 403
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["code"] == "permission_denied"


def test_not_found_body(reviewer):
    response = token_client(reviewer).get("/api/v1/queues/999999/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No Queue matches the given query.", "errors": {}}


def test_conflict_body(manager, queue):
    ReviewItemFactory(queue=queue)

    response = token_client(manager).delete(f"/api/v1/queues/{queue.pk}/")

    assert response.status_code == 409
    assert response.json() == {
        "code": "queue_not_empty",
        "message": f"Queue {queue.slug!r} contains 1 item(s) and cannot be deleted; pause it with is_active=false instead.",
        "errors": {},
    }


def test_method_not_allowed_body(reviewer):
    response = token_client(reviewer).delete("/api/v1/assignments/")

    assert response.status_code == 405
    assert response.json() == {"code": "method_not_allowed", "message": 'Method "DELETE" not allowed.', "errors": {}}


def test_malformed_json_body(manager):
    response = token_client(manager).generic(
        "POST", "/api/v1/rubrics/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["code"] == "parse_error"
