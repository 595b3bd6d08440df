"""Logs carry event keys with user and token ids, and never a password, token key or session key."""

import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from bookbag.tokens.models import ApiToken
from bookbag.tokens.services import token_create
from reviews.services import assignment_claim
from tests.factories import QueueFactory, ReviewItemFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "review-pass-123"
WRONG_PASSWORD = "wrong-pass-456-secret"


@pytest.fixture
def captured(caplog):
    """Capture every record at DEBUG, Django's request and security loggers included."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.security"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def text_of(records) -> str:
    """Return each record's message and every attribute, as a log formatter or JSON handler could print them."""
    return "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in records)


def events(records, name: str) -> list[logging.LogRecord]:
    return [record for record in records if record.getMessage() == name]


def login(client, username: str, password: str):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


def test_session_and_token_flow_logs_no_secrets(client, captured, reviewer):
    login(client, reviewer.username, WRONG_PASSWORD)
    login(client, reviewer.username, PASSWORD)
    session_key = client.cookies["sessionid"].value
    csrf_token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    token, key = token_create(user=reviewer, actor=reviewer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.get("/api/v1/queues/")
    api.get("/api/v1/items/999999/")
    client.post(reverse("admin:tokens_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    api.get("/api/v1/queues/")

    logged = text_of(captured.records)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert key not in logged
    assert key[8:] not in logged
    assert token.digest not in logged
    assert PASSWORD not in logged
    assert WRONG_PASSWORD not in logged
    assert session_key not in logged
    if csrf_token:
        assert csrf_token not in logged


def test_failed_login_logs_user_id(client, captured, reviewer):
    login(client, reviewer.username, WRONG_PASSWORD)

    [record] = events(captured.records, "auth.login_failed")

    assert record.user_id == reviewer.pk
    assert record.levelno == logging.WARNING


def test_failed_login_of_unknown_user_logs_no_id(client, captured, db):
    login(client, "nobody-here", WRONG_PASSWORD)

    [record] = events(captured.records, "auth.login_failed")

    assert record.user_id is None
    assert "nobody-here" not in text_of(captured.records)


def test_token_create_logs_prefix_and_actor(captured, reviewer, manager):
    token, _ = token_create(user=reviewer, actor=manager)

    [record] = events(captured.records, "token.created")

    assert record.token_id == token.pk
    assert record.token_prefix == token.prefix
    assert record.user_id == reviewer.pk
    assert record.actor_id == manager.pk


def test_token_revoke_logs_prefix_and_actor(client, captured, reviewer):
    token, _ = token_create(user=reviewer)
    client.force_login(reviewer)

    client.post(reverse("admin:tokens_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})

    [record] = events(captured.records, "token.revoked")
    assert record.token_id == token.pk
    assert record.token_prefix == token.prefix
    assert record.actor_id == reviewer.pk


def test_revoked_token_use_logs_failure(captured, reviewer):
    token, key = token_create(user=reviewer)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00:00Z")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get("/api/v1/queues/")

    assert response.status_code == 401
    assert len(events(captured.records, "token.auth_failed")) == 1


def test_admin_denial_of_existing_object_is_logged(client, captured, reviewer):
    hidden = ReviewItemFactory(queue=QueueFactory())
    client.force_login(reviewer)

    response = client.get(reverse("admin:reviews_reviewitem_change", args=[hidden.pk]))

    assert response.status_code == 404
    [record] = events(captured.records, "access.denied")
    assert record.user_id == reviewer.pk
    assert record.object_type == "reviews.reviewitem"
    assert record.object_id == str(hidden.pk)
    assert record.channel == "admin"


def test_admin_missing_object_logs_no_denial(client, captured, reviewer):
    client.force_login(reviewer)

    response = client.get(reverse("admin:reviews_reviewitem_change", args=[999999]))

    assert response.status_code == 404
    assert events(captured.records, "access.denied") == []


def test_api_denial_of_existing_object_is_logged(captured, reviewer):
    hidden = ReviewItemFactory(queue=QueueFactory())
    _, key = token_create(user=reviewer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get(f"/api/v1/items/{hidden.pk}/")

    assert response.status_code == 404
    [record] = events(captured.records, "access.denied")
    assert record.user_id == reviewer.pk
    assert record.object_id == str(hidden.pk)
    assert record.channel == "api"


def test_workspace_denial_of_existing_assignment_is_logged(client, captured, reviewer, queue):
    ReviewItemFactory(queue=queue)
    held = assignment_claim(queue=queue, reviewer=reviewer)
    client.force_login(UserFactory(username="stranger"))

    response = client.get(reverse("admin:workspace_assignment", args=[held.pk]))

    assert response.status_code == 404
    [record] = events(captured.records, "access.denied")
    assert record.object_type == "reviews.assignment"
    assert record.object_id == str(held.pk)
