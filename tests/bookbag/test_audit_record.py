import pytest

from bookbag.audit.context import audit_context
from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record
from reviews.services import assignment_claim, queue_update
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_record_stores_actor_and_context(queue, manager):
    with audit_context(channel="command", request_id="req-1"):
        event = audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 1})

    assert event.actor == manager
    assert event.actor_label == "manager"
    assert event.channel == "command"
    assert event.request_id == "req-1"
    assert event.object_type == "reviews.queue"
    assert event.object_id == str(queue.pk)


def test_system_work_has_no_actor(queue):
    event = audit_record(actor=None, action="assignment.expire", instance=queue)

    assert event.actor is None
    assert event.actor_label == ""


def test_queue_update_records_before_and_after(queue, manager):
    queue_update(actor=manager, queue=queue, lease_minutes=45)

    event = AuditEvent.objects.get(action="queue.update")
    assert event.before["lease_minutes"] == 30
    assert event.after["lease_minutes"] == 45


def test_update_without_change_writes_no_event(queue, manager):
    queue_update(actor=manager, queue=queue, lease_minutes=queue.lease_minutes)

    assert not AuditEvent.objects.filter(action="queue.update").exists()


def test_claim_writes_claim_event(queue, reviewer):
    ReviewItemFactory(queue=queue)

    assignment = assignment_claim(queue=queue, reviewer=reviewer)

    event = AuditEvent.objects.get(action="assignment.claim")
    assert event.object_id == str(assignment.pk)
    assert event.actor == reviewer


def test_request_id_echoed_in_response(client, reviewer):
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="abc123")

    assert response["X-Request-ID"] == "abc123"
