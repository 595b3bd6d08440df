import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from bookbag.tokens.models import ApiToken
from bookbag.tokens.services import token_create, token_digest, token_revoke
from tests.api_clients import token_client
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_only_digest_of_key_is_stored(reviewer):
    token, key = token_create(user=reviewer)

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["digest"] == token_digest(key)
    assert key not in {str(value) for value in stored.values()}
    assert stored["prefix"] == key[:8]


def test_valid_token_authenticates_and_records_use(reviewer, queue):
    token, key = token_create(user=reviewer)

    response = _client(key).get("/api/v1/queues/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [queue.pk]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_401(reviewer, manager):
    token, key = token_create(user=reviewer)
    token_revoke(token=token, actor=manager)

    response = _client(key).get("/api/v1/queues/")

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": "Invalid or revoked token.", "errors": {}}


def test_unknown_token_is_401(db):
    response = _client("not-a-real-key").get("/api/v1/queues/")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or revoked token."


def test_token_of_inactive_user_is_401(reviewer):
    _, key = token_create(user=reviewer)
    reviewer.is_active = False
    reviewer.save()

    response = _client(key).get("/api/v1/queues/")

    assert response.status_code == 401


def test_missing_credentials_are_401(db):
    response = APIClient().get("/api/v1/queues/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_without_scope_is_403(reviewer, queue):
    _, key = token_create(user=reviewer, scopes=["review"])

    response = _client(key).get("/api/v1/queues/")

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "This token lacks the 'read' scope; create a token with --scope read.",
        "errors": {},
    }


def test_token_scope_limits_manager(manager, queue):
    _, key = token_create(user=manager, scopes=["read"])

    response = _client(key).delete(f"/api/v1/queues/{queue.pk}/")

    assert response.status_code == 403
    assert "'manage' scope" in response.json()["message"]


def test_scope_beyond_role_names_managers(reviewer, queue):
    _, key = token_create(user=reviewer, scopes=["review"])

    response = _client(key).post("/api/v1/items/", {}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == (
        "This token lacks the 'ingest' scope, and its user's role does not allow it; "
        "only managers (the reviews.manage_workspace permission) hold it."
    )


def test_token_loses_scopes_with_manager_role(db):
    former = ManagerFactory(username="former-manager")
    client = token_client(former, scopes=["export", "read"])
    former.user_permissions.remove(Permission.objects.get(codename="manage_workspace"))

    exports = client.get("/api/v1/exports/")
    queues = client.get("/api/v1/queues/")

    assert exports.status_code == 403
    assert "no longer allows it" in exports.json()["message"]
    assert queues.status_code == 200
