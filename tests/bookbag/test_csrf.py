"""Session-authenticated writes need a CSRF token, in the admin and in the API; pages may not be framed."""

import pytest
from django.test import Client
from django.urls import reverse

from bookbag.tokens.services import token_create
from reviews.models import Assignment, Queue
from tests.factories import ReviewItemFactory, RubricFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    return client


def csrf_token(client, url: str) -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


def queue_payload(rubric) -> dict:
    return {"name": "Router replies", "slug": "router-replies", "rubric": rubric.pk}


def test_admin_post_without_token_is_forbidden(csrf_client):
    response = csrf_client.post(reverse("admin:reviews_queue_add"), {"name": "Router replies"})

    assert response.status_code == 403
    assert not Queue.objects.filter(name="Router replies").exists()


def test_admin_action_without_token_is_forbidden(csrf_client, manager):
    token, _ = token_create(user=manager)

    response = csrf_client.post(
        reverse("admin:tokens_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )

    token.refresh_from_db()
    assert response.status_code == 403
    assert token.revoked_at is None


def test_admin_logout_without_token_is_forbidden(csrf_client):
    response = csrf_client.post(reverse("admin:logout"))

    assert response.status_code == 403
    assert csrf_client.get(reverse("admin:index")).status_code == 200


def test_login_without_token_is_forbidden(manager):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("admin:login"), {"username": manager.username, "password": "review-pass-123"})

    assert response.status_code == 403
    assert "sessionid" not in client.cookies


def test_session_api_post_without_token_is_forbidden(csrf_client):
    response = csrf_client.post("/api/v1/queues/", queue_payload(RubricFactory()), content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Queue.objects.filter(slug="router-replies").exists()


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_session_api_change_without_token_is_forbidden(csrf_client, queue, method):
    response = getattr(csrf_client, method)(
        f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 5}, content_type="application/json"
    )

    queue.refresh_from_db()
    assert response.status_code == 403
    assert queue.lease_minutes != 5
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_session_api_post_with_token_succeeds(csrf_client):
    token = csrf_token(csrf_client, reverse("admin:index"))

    response = csrf_client.post(
        "/api/v1/queues/", queue_payload(RubricFactory()), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 201
    assert Queue.objects.filter(slug="router-replies").exists()


def test_token_api_post_needs_no_csrf_token(manager):
    _, key = token_create(user=manager)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/queues/", queue_payload(RubricFactory()), content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )

    assert response.status_code == 201


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/api/v1/"])
def test_pages_deny_framing(client, manager, url):
    client.force_login(manager)

    response = client.get(url)

    assert response["X-Frame-Options"] == "DENY"


def test_workspace_claim_without_token_is_forbidden(queue, reviewer):
    ReviewItemFactory(queue=queue)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)

    response = client.post(reverse("admin:workspace_claim", args=[queue.pk]))

    assert response.status_code == 403
    assert not Assignment.objects.filter(reviewer=reviewer).exists()
