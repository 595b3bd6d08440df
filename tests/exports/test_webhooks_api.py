import uuid

import pytest
from rest_framework.test import APIClient

from bookbag.tokens.services import token_create
from exports.models import WebhookDelivery, WebhookEndpoint
from exports.webhooks.endpoints import webhook_endpoint_create
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

WEBHOOKS_URL = "/api/v1/webhooks/"
URL = "https://hooks.example.com/bookbag"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _endpoint(owner, **options) -> WebhookEndpoint:
    return webhook_endpoint_create(actor=owner, url=options.pop("url", URL),
                                   events=options.pop("events", ["export.succeeded"]), **options)


def test_create_returns_generated_secret(manager):
    response = _client(manager).post(
        WEBHOOKS_URL, {"url": URL, "events": ["export.succeeded", "export.failed"]}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.owner == manager
    assert body["url"] == URL
    assert body["events"] == ["export.succeeded", "export.failed"]
    assert body["secret"] == endpoint.secret
    assert len(body["secret"]) == 64
    assert body["is_active"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://hooks.example.com/x", "events": ["export.succeeded"]}, "url"),
        ({"url": "file:///etc/passwd", "events": ["export.succeeded"]}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["export.started"]}, "events[0]"),
        ({"url": URL, "events": ["export.succeeded"], "secret": "short"}, "secret"),
        ({"events": ["export.succeeded"]}, "url"),
    ],
)
def test_create_rejects_invalid_payload(manager, payload, field):
    response = _client(manager).post(WEBHOOKS_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0


def test_list_shows_own_endpoints(manager):
    own = _endpoint(manager)
    _endpoint(ManagerFactory(username="other-manager"))

    response = _client(manager).get(WEBHOOKS_URL)

    assert response.status_code == 200
    assert [endpoint["id"] for endpoint in response.json()["results"]] == [own.pk]


def test_other_managers_endpoint_is_404(manager):
    other = _endpoint(ManagerFactory(username="other-manager"))
    client = _client(manager)

    assert client.get(f"{WEBHOOKS_URL}{other.pk}/").status_code == 404
    assert client.patch(f"{WEBHOOKS_URL}{other.pk}/", {"is_active": False}, format="json").status_code == 404
    assert client.delete(f"{WEBHOOKS_URL}{other.pk}/").status_code == 404
    assert client.get(f"{WEBHOOKS_URL}{other.pk}/deliveries/").status_code == 404
    other.refresh_from_db()
    assert other.is_active is True


def test_patch_changes_events(manager):
    endpoint = _endpoint(manager)

    response = _client(manager).patch(f"{WEBHOOKS_URL}{endpoint.pk}/", {"events": ["export.failed"]}, format="json")

    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.events == ["export.failed"]


def test_delete_removes_endpoint(manager):
    endpoint = _endpoint(manager)

    response = _client(manager).delete(f"{WEBHOOKS_URL}{endpoint.pk}/")

    assert response.status_code == 204
    assert WebhookEndpoint.objects.count() == 0


def test_deliveries_list_attempts(manager):
    endpoint = _endpoint(manager)
    event_id = uuid.uuid4()
    for attempt, status_code in [(1, 500), (2, 200)]:
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_id=event_id, event="export.succeeded", payload={}, attempt=attempt,
            status_code=status_code, succeeded=status_code == 200, response_ms=12,
        )

    response = _client(manager).get(f"{WEBHOOKS_URL}{endpoint.pk}/deliveries/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(row["attempt"], row["status_code"], row["succeeded"]) for row in results] == [
        (2, 200, True), (1, 500, False),
    ]
    assert results[0]["event_id"] == str(event_id)


def test_reviewer_is_forbidden(reviewer):
    client = _client(reviewer)

    assert client.get(WEBHOOKS_URL).status_code == 403
    assert client.post(WEBHOOKS_URL, {"url": URL, "events": ["export.succeeded"]}, format="json").status_code == 403
    assert WebhookEndpoint.objects.count() == 0


def test_token_without_export_scope_is_403(manager):
    _, key = token_create(user=manager, scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.post(WEBHOOKS_URL, {"url": URL, "events": ["export.succeeded"]}, format="json")

    assert response.status_code == 403
    assert "--scope export" in response.json()["message"]
