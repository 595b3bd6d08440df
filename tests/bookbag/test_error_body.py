"""Every API error has the same body: ``{"code", "message", "errors"}``."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from bookbag.api.errors import INTEGRITY_MESSAGE, SERVER_ERROR_MESSAGE
from reviews.models import Queue
from rubrics.models import Rubric
from tests.api_clients import token_client
from tests.bookbag.failing_urls import SECRET_TEXT
from tests.factories import ReviewItemFactory, RubricFactory

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
    assert response.json()["message"] == (
        "criteria[1].key: This field is required (1 more error is listed in errors)."
    )
    assert response.json()["errors"] == {
        "criteria[1].key": ["This field is required."],
        "criteria[1].label": ["This field is required."],
    }


def test_every_invalid_field_is_listed(manager, queue):
    payload = {
        "name": "Other", "slug": "other", "rubric": queue.rubric.pk, "colour": "red", "owner": 1,
        "lease_minutes": "soon",
    }

    response = token_client(manager).post("/api/v1/queues/", payload, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["colour", "owner", "lease_minutes"]
    assert errors["colour"][0].startswith("Unknown field 'colour'; the writable fields are name, slug, rubric")
    assert errors["owner"][0].startswith("Unknown field 'owner'; the writable fields are name, slug, rubric")
    assert errors["lease_minutes"] == ["A valid integer is required."]
    assert not Queue.objects.filter(slug="other").exists()


def test_message_counts_other_errors(manager, queue):
    payload = {"name": "Other", "slug": "other", "rubric": queue.rubric.pk, "colour": "red", "owner": 1}

    response = token_client(manager).post("/api/v1/queues/", payload, format="json")

    message = response.json()["message"]
    assert message.startswith("colour: Unknown field 'colour'; the writable fields are name, slug, rubric")
    assert message.endswith(" (1 more error is listed in errors).")
    assert "owner" not in message


def test_nested_unknown_keys_are_listed(manager):
    criteria = [{"key": "correct", "label": "Correct", "colour": "red"}, {"key": "tone", "label": "Tone", "size": 2}]
    payload = {"name": "Helpfulness", "slug": "helpfulness", "criteria": criteria, "owner": 1}

    response = token_client(manager).post("/api/v1/rubrics/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["owner", "criteria[0].colour", "criteria[1].size"]
    assert response.json()["message"].endswith(" (2 more errors are listed in errors).")
    assert not Rubric.objects.filter(slug="helpfulness").exists()


def test_action_body_lists_every_key(reviewer, queue):
    response = token_client(reviewer).post(f"/api/v1/queues/{queue.pk}/claim/", {"a": 1, "b": 2}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["a", "b"]


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
    assert response.json() == {
        "code": "not_found",
        "message": "Not found among the objects you can see; check the id, or list the collection to find it.",
        "errors": {},
    }


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


def test_unsupported_media_type_body(manager):
    response = token_client(manager).generic("POST", "/api/v1/rubrics/", "name=x", content_type="text/plain")

    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "message": (
            'Unsupported media type "text/plain" in request. '
            "Send a JSON body with the header 'Content-Type: application/json'."
        ),
        "errors": {},
    }


def test_not_authenticated_message_names_header(db):
    response = APIClient().get("/api/v1/items/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Authorization: Token <key>" in response.json()["message"]
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_body(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    response = client.get("/api/v1/items/")

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": "Invalid or revoked token.", "errors": {}}


def test_unknown_api_url_body(db):
    response = APIClient().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found",
        "message": "No API endpoint at /api/v1/no-such-thing/; the schema at /api/schema/ lists every endpoint.",
        "errors": {},
    }


def test_unknown_admin_url_keeps_html_page(admin_client):
    response = admin_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("tests.bookbag.failing_urls")
def test_unexpected_exception_answers_server_error(settings, caplog):
    settings.DEBUG = False

    response = APIClient().get("/api/v1/test-crash/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "server_error", "message": SERVER_ERROR_MESSAGE, "errors": {}}
    assert SECRET_TEXT not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert [record.getMessage() for record in caplog.records if record.name == "bookbag.api.errors"] == [
        "api.server_error"
    ]


@pytest.mark.urls("tests.bookbag.failing_urls")
def test_crash_outside_drf_view_answers_json(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/test-plain-crash/")

    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": SERVER_ERROR_MESSAGE, "errors": {}}
    assert SECRET_TEXT not in response.content.decode()


@pytest.mark.urls("tests.bookbag.failing_urls")
def test_crash_outside_api_keeps_html_page(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/test-plain-crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert SECRET_TEXT not in response.content.decode()


@pytest.mark.urls("tests.bookbag.failing_urls")
@pytest.mark.django_db(transaction=True)
def test_integrity_error_answers_conflict_without_sql(settings):
    settings.DEBUG = False
    RubricFactory(slug="raced", version=1)

    response = APIClient().post("/api/v1/test-raced-insert/", {"slug": "raced"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": INTEGRITY_MESSAGE, "errors": {}}
    body = response.content.decode().lower()
    assert "unique value" in body
    for sql_word in ("insert", "constraint", "rubrics_rubric", "integrityerror"):
        assert sql_word not in body
    assert Rubric.objects.filter(slug="raced").count() == 1


@pytest.mark.urls("tests.bookbag.failing_urls")
def test_unexpected_exception_reaches_debug_page_with_debug_on(settings):
    settings.DEBUG = True

    with pytest.raises(RuntimeError, match=SECRET_TEXT):
        APIClient().get("/api/v1/test-crash/")


def test_unknown_api_path_has_error_body_with_debug(client, manager, settings):
    settings.DEBUG = True
    client.force_login(manager)

    response = client.get("/api/v1/exports/not-an-id/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert "/api/v1/exports/not-an-id/" in response.json()["message"]


def test_post_to_unknown_api_path_is_json_404(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post("/api/v1/assignments/1.5/release/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_missing_object_message_says_what_to_do(manager):
    response = token_client(manager).get("/api/v1/exports/987654/")

    assert response.status_code == 404
    assert response.json()["message"] == (
        "Not found among the objects you can see; check the id, or list the collection to find it."
    )


def test_unsupported_media_type_names_json(manager):
    response = token_client(manager).generic("POST", "/api/v1/items/", "plain text", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["message"].endswith("Send a JSON body with the header 'Content-Type: application/json'.")
