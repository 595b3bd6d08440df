"""A service called with the values an object already has writes no audit event."""

import pytest

from bookbag.audit.models import AuditEvent
from exports.webhooks.endpoints import webhook_endpoint_create, webhook_endpoint_update
from reviews.models import QueueMembership
from reviews.services import membership_set, queue_update
from reviews.services.assigning import item_priority_set
from rubrics.services import rubric_update
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def events_after(mark: int) -> list[str]:
    return list(AuditEvent.objects.filter(id__gt=mark).values_list("action", flat=True))


def latest_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_queue_update_same_values(queue, manager):
    mark = latest_id()

    queue_update(actor=manager, queue=queue, lease_minutes=queue.lease_minutes, blind=queue.blind)

    assert events_after(mark) == []


def test_queue_update_records_only_changed_field(queue, manager):
    queue_update(actor=manager, queue=queue, lease_minutes=queue.lease_minutes + 5, blind=queue.blind)

    event = AuditEvent.objects.get(action="queue.update")
    assert set(event.before) == set(event.after) == {"lease_minutes"}


def test_rubric_update_same_values(queue, manager):
    mark = latest_id()

    rubric_update(actor=manager, rubric=queue.rubric, name=queue.rubric.name, guidelines=queue.rubric.guidelines)

    assert events_after(mark) == []


def test_membership_set_same_role(queue, manager, reviewer):
    mark = latest_id()

    membership_set(actor=manager, queue=queue, user=reviewer, role=QueueMembership.Role.REVIEWER)

    assert events_after(mark) == []


def test_priority_set_same_value(queue, manager):
    item = ReviewItemFactory(queue=queue, priority=3)
    mark = latest_id()

    changed = item_priority_set(actor=manager, items=[item], priority=3)

    assert changed == 0
    assert events_after(mark) == []


def test_webhook_update_same_values(manager):
    endpoint = webhook_endpoint_create(actor=manager, url="http://127.0.0.1:9/hook", events=["export.succeeded"])
    mark = latest_id()

    webhook_endpoint_update(actor=manager, endpoint=endpoint, url=endpoint.url, is_active=True)

    assert events_after(mark) == []


def test_webhook_secret_change_is_recorded_without_secret(manager):
    endpoint = webhook_endpoint_create(actor=manager, url="http://127.0.0.1:9/hook", events=["export.succeeded"])

    webhook_endpoint_update(actor=manager, endpoint=endpoint, secret="a-new-secret-of-enough-length-1234")

    event = AuditEvent.objects.get(action="webhook.update")
    assert event.after == {"secret_changed": True}
    assert "a-new-secret" not in str(event.before) + str(event.after)
