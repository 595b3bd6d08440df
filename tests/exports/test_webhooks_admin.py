import uuid

import pytest
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from exports.models import WebhookDelivery, WebhookEndpoint
from exports.webhooks.endpoints import webhook_endpoint_create
from tests.admin_forms import changeform_data
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = reverse("admin:exports_webhookendpoint_changelist")
ADD = reverse("admin:exports_webhookendpoint_add")
DELIVERIES = reverse("admin:exports_webhookdelivery_changelist")
URL = "https://hooks.example.com/bookbag"


def _endpoint(owner, url: str = URL) -> WebhookEndpoint:
    return webhook_endpoint_create(actor=owner, url=url, events=["export.succeeded"])


def _delivery(endpoint, attempt: int = 1) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event="export.succeeded", payload={}, attempt=attempt,
        status_code=500, error="HTTP 500 Internal Server Error",
    )


def test_add_generates_secret(client, manager):
    client.force_login(manager)

    response = client.post(ADD, {"url": URL, "events": ["export.succeeded", "export.failed"], "secret": "",
                                 "is_active": "on"})

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.owner == manager
    assert endpoint.events == ["export.succeeded", "export.failed"]
    assert len(endpoint.secret) == 64
    assert AuditEvent.objects.get(action="webhook.create").channel == "admin"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://hooks.example.com/x", "events": ["export.succeeded"]}, "Enter an http:// or https:// URL."),
        ({"url": URL, "events": []}, "This field is required."),
        ({"url": URL, "events": ["export.succeeded"], "secret": "short"},
         "The secret must be at least 16 printable characters"),
    ],
)
def test_add_form_shows_invalid_value(client, manager, data, message):
    client.force_login(manager)

    response = client.post(ADD, {"secret": "", "is_active": "on", **data})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_change_goes_through_service(client, manager):
    endpoint = _endpoint(manager)
    client.force_login(manager)
    url = reverse("admin:exports_webhookendpoint_change", args=[endpoint.pk])
    data = changeform_data(client.get(url))
    data.pop("is_active")

    response = client.post(url, data)

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert endpoint.is_active is False
    event = AuditEvent.objects.get(action="webhook.update")
    assert event.before == {"is_active": True}
    assert event.after == {"is_active": False}


def test_delete_goes_through_service(client, manager):
    endpoint = _endpoint(manager)
    client.force_login(manager)

    response = client.post(reverse("admin:exports_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert WebhookEndpoint.objects.count() == 0
    assert AuditEvent.objects.filter(action="webhook.delete").count() == 1


def test_manager_sees_own_endpoints_only(client, manager):
    own = _endpoint(manager)
    other = _endpoint(ManagerFactory(username="other-manager"), url="https://other.example.com/hook")
    client.force_login(manager)

    listed = client.get(ENDPOINTS).context["cl"].result_list

    assert [endpoint.pk for endpoint in listed] == [own.pk]
    assert client.get(reverse("admin:exports_webhookendpoint_change", args=[other.pk])).status_code == 404


def test_deliveries_read_only_and_scoped(client, manager):
    own = _delivery(_endpoint(manager))
    _delivery(_endpoint(ManagerFactory(username="other-manager"), url="https://other.example.com/hook"))
    client.force_login(manager)

    response = client.get(DELIVERIES)
    change = client.post(reverse("admin:exports_webhookdelivery_change", args=[own.pk]), {"attempt": 9})

    assert [delivery.pk for delivery in response.context["cl"].result_list] == [own.pk]
    assert "other.example.com" not in response.content.decode()
    assert client.get(reverse("admin:exports_webhookdelivery_add")).status_code == 403
    assert change.status_code == 403
    own.refresh_from_db()
    assert own.attempt == 1


def test_endpoint_links_to_its_deliveries(client, manager):
    endpoint = _endpoint(manager)
    second = _endpoint(manager, url="https://second.example.com/hook")
    _delivery(endpoint)
    _delivery(endpoint, attempt=2)
    _delivery(second)
    client.force_login(manager)

    content = client.get(ENDPOINTS).content.decode()
    filtered = client.get(DELIVERIES, {"endpoint": str(endpoint.pk)})
    invalid = client.get(DELIVERIES, {"endpoint": "not-a-number"})

    assert f'<a href="{DELIVERIES}?endpoint={endpoint.pk}">2</a>' in content
    assert {delivery.endpoint_id for delivery in filtered.context["cl"].result_list} == {endpoint.pk}
    assert list(invalid.context["cl"].result_list) == []


def test_reviewer_cannot_open_webhook_pages(client, reviewer):
    client.force_login(reviewer)

    assert client.get(ENDPOINTS).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.get(DELIVERIES).status_code == 403


@pytest.mark.parametrize("rows", [1, 4])
def test_delivery_list_query_count_is_flat(client, manager, rows, django_assert_num_queries):
    endpoint = _endpoint(manager)
    for attempt in range(rows):
        _delivery(endpoint, attempt=attempt + 1)
    client.force_login(manager)

    with django_assert_num_queries(7):
        response = client.get(DELIVERIES)

    assert len(response.context["cl"].result_list) == rows
