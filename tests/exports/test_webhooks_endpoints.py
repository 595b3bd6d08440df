import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import NotFound, PermissionDenied
from exports.models import WebhookEndpoint
from exports.webhooks.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_list,
    webhook_endpoint_update,
)
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/bookbag"
EVENTS = ["export.succeeded"]


def test_create_generates_secret_when_blank(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS)

    assert endpoint.owner == manager
    assert len(endpoint.secret) == 64
    assert int(endpoint.secret, 16) >= 0
    assert endpoint.is_active is True


def test_create_keeps_given_secret(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS, secret="s" * 16)

    assert endpoint.secret == "s" * 16


def test_create_audit_event_omits_secret(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS, secret="my-very-own-secret")

    event = AuditEvent.objects.get(action="webhook.create")
    assert event.object_id == str(endpoint.pk)
    assert event.after == {"owner": manager.pk, "url": URL, "events": EVENTS, "is_active": True}
    assert "my-very-own-secret" not in str(event.after)


@pytest.mark.parametrize(
    ("url", "events", "secret", "field", "message"),
    [
        ("ftp://hooks.example.com/x", EVENTS, "", "url", "Enter an http:// or https:// URL."),
        ("javascript:alert(1)", EVENTS, "", "url", "Enter an http:// or https:// URL."),
        ("hooks.example.com/x", EVENTS, "", "url", "Enter an http:// or https:// URL."),
        (URL, [], "", "events", "Choose at least one event from export.succeeded, export.failed."),
        (URL, ["export.started"], "", "events",
         "Unknown event 'export.started'; choose from export.succeeded, export.failed."),
        (URL, EVENTS * 2, "", "events", "Each event may be listed once."),
        (URL, "export.succeeded", "", "events", "Choose at least one event from export.succeeded, export.failed."),
        (URL, EVENTS, "too-short", "secret",
         "The secret must be at least 16 printable characters without leading or trailing spaces; leave it "
         "blank to have one generated."),
        (URL, EVENTS, " padded-secret-value ", "secret",
         "The secret must be at least 16 printable characters without leading or trailing spaces; leave it "
         "blank to have one generated."),
    ],
)
def test_create_rejects_invalid_value(manager, url, events, secret, field, message):
    with pytest.raises(ValidationError) as error:
        webhook_endpoint_create(actor=manager, url=url, events=events, secret=secret)

    assert message in error.value.message_dict[field]
    assert WebhookEndpoint.objects.count() == 0


def test_reviewer_cannot_create(reviewer):
    with pytest.raises(PermissionDenied) as error:
        webhook_endpoint_create(actor=reviewer, url=URL, events=EVENTS)

    assert error.value.message == "Only managers register webhook endpoints."


def test_update_records_secret_change(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS)
    old_secret = endpoint.secret

    updated = webhook_endpoint_update(actor=manager, endpoint=endpoint, events=["export.failed"], secret="")

    assert updated.events == ["export.failed"]
    assert len(updated.secret) == 64
    assert updated.secret != old_secret
    event = AuditEvent.objects.get(action="webhook.update")
    assert event.before["events"] == EVENTS
    assert event.after["events"] == ["export.failed"]
    assert event.after["secret_changed"] is True
    assert old_secret not in str(event.before) + str(event.after)


def test_update_rejects_unknown_field(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS)

    with pytest.raises(ValidationError) as error:
        webhook_endpoint_update(actor=manager, endpoint=endpoint, owner=manager)

    assert error.value.messages == ["Field 'owner' cannot be changed; only events, is_active, secret, url can."]


def test_other_managers_endpoint_is_not_found(manager):
    endpoint = webhook_endpoint_create(actor=ManagerFactory(username="other-manager"), url=URL, events=EVENTS)

    with pytest.raises(NotFound):
        webhook_endpoint_update(actor=manager, endpoint=endpoint, is_active=False)
    with pytest.raises(NotFound):
        webhook_endpoint_delete(actor=manager, endpoint=endpoint)

    endpoint.refresh_from_db()
    assert endpoint.is_active is True


def test_delete_records_event(manager):
    endpoint = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS)

    webhook_endpoint_delete(actor=manager, endpoint=endpoint)

    assert WebhookEndpoint.objects.count() == 0
    assert AuditEvent.objects.get(action="webhook.delete").before["url"] == URL


def test_list_scoped_by_role(manager, reviewer):
    own = webhook_endpoint_create(actor=manager, url=URL, events=EVENTS)
    other = webhook_endpoint_create(actor=ManagerFactory(username="other-manager"), url=URL, events=EVENTS)
    superuser = UserFactory(username="root", is_superuser=True)

    assert list(webhook_endpoint_list(user=manager)) == [own]
    assert list(webhook_endpoint_list(user=superuser)) == [own, other]
    assert list(webhook_endpoint_list(user=reviewer)) == []
