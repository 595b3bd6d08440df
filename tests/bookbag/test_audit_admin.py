import pytest
from django.urls import reverse

from bookbag.audit.context import audit_context
from bookbag.audit.models import AuditEvent
from bookbag.audit.services import audit_record
from reviews.services import queue_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def event(manager, queue):
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    return AuditEvent.objects.get(action="queue.update")


@pytest.mark.parametrize("who", ["superuser", "manager"])
def test_nobody_adds_events(client, request, who, event):
    client.force_login(request.getfixturevalue(who))

    page = client.get(reverse("admin:audit_auditevent_add"))
    post = client.post(reverse("admin:audit_auditevent_add"), {"action": "forged", "object_type": "x", "object_id": "1"})

    assert page.status_code == 403
    assert post.status_code == 403
    assert not AuditEvent.objects.filter(action="forged").exists()


@pytest.mark.parametrize("who", ["superuser", "manager"])
def test_nobody_changes_events(client, request, who, event):
    client.force_login(request.getfixturevalue(who))

    page = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    post = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "forged"})

    assert page.context["title"] == "View audit event"
    assert post.status_code == 403
    event.refresh_from_db()
    assert event.action == "queue.update"


@pytest.mark.parametrize("who", ["superuser", "manager"])
def test_nobody_deletes_events(client, request, who, event):
    client.force_login(request.getfixturevalue(who))

    page = client.get(reverse("admin:audit_auditevent_delete", args=[event.pk]))
    post = client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})
    bulk = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})

    assert page.status_code == 403
    assert post.status_code == 403
    assert bulk.status_code == 200
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_changelist_offers_no_actions(client, superuser, event):
    client.force_login(superuser)

    response = client.get(CHANGELIST)

    assert response.context["action_form"] is None


def test_reviewer_cannot_list_events(client, reviewer, event):
    client.force_login(reviewer)

    assert client.get(CHANGELIST).status_code == 403


def test_changelist_filters_by_action_type_channel_actor_date(client, superuser, event):
    client.force_login(superuser)

    response = client.get(CHANGELIST)

    titles = [spec.title for spec in response.context["cl"].filter_specs]
    assert titles == ["action", "object type", "channel", "actor", "created at"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "queue.update"}, ["queue.update"]),
        ({"object_type": "auth.user"}, ["token.revoke"]),
        ({"channel__exact": "command"}, ["token.revoke"]),
        ({"channel__exact": "shell"}, ["queue.update"]),
    ],
)
def test_filters_narrow_events(client, superuser, event, params, expected):
    with audit_context(channel="command"):
        audit_record(actor=superuser, action="token.revoke", instance=superuser)
    client.force_login(superuser)

    response = client.get(CHANGELIST, params)

    assert [row.action for row in response.context["cl"].result_list] == expected


def test_actor_filter_narrows_events(client, superuser, manager, event):
    audit_record(actor=superuser, action="token.revoke", instance=superuser)
    client.force_login(superuser)

    response = client.get(CHANGELIST, {"actor__id__exact": str(manager.pk)})

    assert [row.action for row in response.context["cl"].result_list] == ["queue.update"]


@pytest.mark.parametrize("rows", [1, 5])
def test_changelist_query_count_is_flat(client, superuser, rows, django_assert_num_queries):
    for index in range(rows):
        audit_record(actor=superuser, action=f"test.event{index}", instance=superuser)
    client.force_login(superuser)

    with django_assert_num_queries(9):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows



@pytest.fixture
def other_queue_event(db):
    """An event of a queue that the ``manager`` fixture does not manage."""
    from reviews.models import QueueMembership
    from tests.factories import ManagerFactory, MembershipFactory, QueueFactory

    other_manager = ManagerFactory(username="other-manager")
    other_queue = QueueFactory()
    MembershipFactory(queue=other_queue, user=other_manager, role=QueueMembership.Role.MANAGER)
    queue_update(actor=other_manager, queue=other_queue, lease_minutes=50)
    return AuditEvent.objects.get(action="queue.update", object_id=str(other_queue.pk))


def test_manager_sees_only_managed_queue_events(client, manager, event, other_queue_event):
    client.force_login(manager)

    response = client.get(CHANGELIST, {"action": "queue.update"})

    assert [row.pk for row in response.context["cl"].result_list] == [event.pk]


def test_manager_cannot_open_other_queue_event(client, manager, other_queue_event):
    client.force_login(manager)

    response = client.get(reverse("admin:audit_auditevent_change", args=[other_queue_event.pk]))

    assert response.status_code == 404


def test_superuser_sees_every_queue_event(client, superuser, event, other_queue_event):
    client.force_login(superuser)

    response = client.get(CHANGELIST, {"action": "queue.update"})

    assert {row.pk for row in response.context["cl"].result_list} == {event.pk, other_queue_event.pk}


def test_search_finds_request_id(client, superuser, event):
    with audit_context(channel="command", request_id="req-find-me"):
        audit_record(actor=superuser, action="token.revoke", instance=superuser)
    client.force_login(superuser)

    response = client.get(CHANGELIST, {"q": "req-find-me"})

    assert [row.action for row in response.context["cl"].result_list] == ["token.revoke"]


def test_search_finds_object_id(client, superuser, event):
    client.force_login(superuser)

    response = client.get(CHANGELIST, {"q": event.object_id, "action": "queue.update"})

    assert [row.pk for row in response.context["cl"].result_list] == [event.pk]


def test_date_filter_narrows_events(client, superuser, event):
    client.force_login(superuser)

    response = client.get(CHANGELIST, {"created_at__gte": "2999-01-01 00:00:00+00:00", "created_at__lt": "2999-01-02 00:00:00+00:00"})

    assert list(response.context["cl"].result_list) == []
