import pytest

from bookbag.audit.context import audit_context
from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record
from reviews.models import QueueMembership
from reviews.services import queue_update
from tests.api_clients import token_client
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/"


@pytest.fixture
def events(queue, manager):
    for minutes in (31, 32, 33):
        queue_update(actor=manager, queue=queue, lease_minutes=minutes)
    return list(AuditEvent.objects.filter(action="queue.update").order_by("-id"))


@pytest.fixture
def other_queue_event(db):
    other_manager = ManagerFactory(username="other-manager")
    other_queue = QueueFactory()
    MembershipFactory(queue=other_queue, user=other_manager, role=QueueMembership.Role.MANAGER)
    queue_update(actor=other_manager, queue=other_queue, lease_minutes=50)
    return AuditEvent.objects.get(action="queue.update", actor=other_manager)


def test_list_shows_events_newest_first(manager, events):
    response = token_client(manager, ["read"]).get(URL, {"action": "queue.update"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [event.pk for event in events]
    assert response.json()["results"][0]["after"] == {"lease_minutes": 33}
    assert response.json()["results"][0]["hash"] == events[0].hash


def test_list_hides_other_managers_queues(manager, events, other_queue_event):
    response = token_client(manager, ["read"]).get(URL)

    ids = {row["id"] for row in response.json()["results"]}
    assert other_queue_event.pk not in ids
    assert events[0].pk in ids


def test_reviewer_gets_empty_list(reviewer, events):
    response = token_client(reviewer, ["read"]).get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_token_without_read_scope_is_rejected(manager, events):
    response = token_client(manager, ["ingest"]).get(URL)

    assert response.status_code == 403
    assert "lacks the 'read' scope" in str(response.json())


def test_anonymous_is_rejected(client, events):
    assert client.get(URL).status_code in (401, 403)


def test_cursor_pages_through_events(manager, events):
    api = token_client(manager, ["read"])

    first = api.get(URL, {"action": "queue.update", "page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert [row["id"] for row in first["results"]] == [events[0].pk, events[1].pk]
    assert [row["id"] for row in second["results"]] == [events[2].pk]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"object_type": "reviews.queue"}, 3),
        ({"object_type": "auth.user"}, 0),
        ({"actor": "manager"}, 3),
        ({"actor": "nobody"}, 0),
        ({"channel": "shell"}, 3),
        ({"channel": "api"}, 0),
        ({"created_after": "2000-01-01T00:00:00Z"}, 3),
        ({"created_before": "2000-01-01T00:00:00Z"}, 0),
    ],
)
def test_filters_narrow_events(manager, events, params, expected):
    response = token_client(manager, ["read"]).get(URL, {"action": "queue.update", **params})

    assert len(response.json()["results"]) == expected


def test_object_id_and_request_id_filters(manager, queue, events):
    with audit_context(channel="command", request_id="req-42"):
        audit_record(actor=manager, action="queue.touch", instance=queue, after={"x": 1})
    api = token_client(manager, ["read"])

    by_object = api.get(URL, {"object_type": "reviews.queue", "object_id": str(queue.pk)}).json()["results"]
    by_request = api.get(URL, {"request_id": "req-42"}).json()["results"]

    assert len(by_object) == 4
    assert [row["action"] for row in by_request] == ["queue.touch"]


@pytest.mark.parametrize(
    ("params", "field"), [({"channel": "carrier-pigeon"}, "channel"), ({"created_after": "last week"}, "created_after")]
)
def test_invalid_filter_is_rejected(manager, events, params, field):
    response = token_client(manager, ["read"]).get(URL, params)

    assert response.status_code == 400
    assert field in str(response.json())


def test_api_reads_record_token_on_events(manager, queue):
    api = token_client(manager, ["manage", "read"])

    api.patch(f"/api/v1/queues/{queue.pk}/", {"lease_minutes": 41}, format="json")

    event = AuditEvent.objects.get(action="queue.update")
    assert event.channel == "api"
    assert event.via_token != ""
    assert event.request_id != ""
