import pytest
from django.contrib import admin
from django.urls import reverse

from bookbag.admin_site import BookbagAdminSite
from tests.factories import UserFactory

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
