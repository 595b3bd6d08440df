import html

import pytest
from django.contrib import admin
from django.urls import reverse

from bookbag.admin_site import BookbagAdminSite
from bookbag.audit.models import AuditEvent
from reviews.services import queue_update
from tests.factories import QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


def test_default_site_is_bookbag():
    assert isinstance(admin.site, BookbagAdminSite)
    assert admin.site.site_header == "Bookbag"


def test_active_staff_enters(client, reviewer):
    client.force_login(reviewer)

    response = client.get(INDEX)

    assert response.status_code == 200
    assert "<title>Administration | Bookbag</title>" in response.content.decode()


@pytest.mark.parametrize("flags", [{"is_staff": False}, {"is_active": False}])
def test_non_staff_or_inactive_is_sent_to_login(client, flags):
    client.force_login(UserFactory(username="visitor", **flags))

    response = client.get(INDEX)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_index_links_workspace(client, reviewer):
    client.force_login(reviewer)

    content = client.get(INDEX).content.decode()

    assert f'href="{reverse("admin:workspace")}"' in content


def test_reviewer_index_lists_review_models_only(client, reviewer):
    client.force_login(reviewer)

    response = client.get(INDEX)

    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert {"Queue", "ReviewItem", "Assignment", "Review", "Rubric", "ApiToken"} <= models
    assert "AuditEvent" not in models
    assert "ExportJob" not in models


def test_manager_index_lists_audit_and_exports(client, manager):
    client.force_login(manager)

    response = client.get(INDEX)

    models = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    assert {"AuditEvent", "ExportJob"} <= models


def history_url(queue) -> str:
    return reverse("admin:reviews_queue_history", args=[queue.pk])


def test_object_history_lists_audit_events(client, manager, queue):
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    client.force_login(manager)

    response = client.get(history_url(queue))

    rows = response.context["audit_events"]
    assert [row["event"].action for row in rows] == ["queue.update"]
    assert '"lease_minutes": 45' in html.unescape(response.content.decode())
    assert response.context["audit_events_truncated"] is False


def test_object_history_keeps_latest_events(client, manager, queue, monkeypatch):
    monkeypatch.setattr("bookbag.admin_site.HISTORY_EVENT_LIMIT", 1)
    queue_update(actor=manager, queue=queue, lease_minutes=45)
    queue_update(actor=manager, queue=queue, lease_minutes=60)
    client.force_login(manager)

    response = client.get(history_url(queue))

    rows = response.context["audit_events"]
    assert [row["event"].after["lease_minutes"] for row in rows] == [60]
    assert response.context["audit_events_truncated"] is True
    assert "Showing the latest 1 events." in response.content.decode()
    assert AuditEvent.objects.filter(action="queue.update").count() == 2


def test_object_history_of_hidden_object_is_not_found(client, reviewer):
    other_queue = QueueFactory()
    client.force_login(reviewer)

    response = client.get(history_url(other_queue))

    assert response.status_code == 404
