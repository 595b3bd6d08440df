"""Removing a member takes effect on their next request and releases their claims, with an audit trail."""

import pytest
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from bookbag.errors import PermissionDenied
from reviews.models import Assignment, QueueMembership
from reviews.services import assignment_claim, membership_remove, review_submit
from tests.admin_forms import changeform_data
from tests.api_clients import token_client
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(queue, reviewer):
    ReviewItemFactory(queue=queue)
    return assignment_claim(queue=queue, reviewer=reviewer)


def remove_in_admin(client, manager, queue, reviewer):
    client.force_login(manager)
    url = reverse("admin:reviews_queue_change", args=[queue.pk])
    page = client.get(url)
    data = changeform_data(page)
    forms = page.context["inline_admin_formsets"][0].formset.forms
    index = next(i for i, form in enumerate(forms) if form.instance.user_id == reviewer.pk)
    data[f"memberships-{index}-DELETE"] = "on"
    response = client.post(url, data)
    client.logout()
    return response


def test_service_releases_claims_and_audits(manager, queue, reviewer, held):
    membership_remove(actor=manager, queue=queue, user=reviewer)

    held.refresh_from_db()
    assert held.state == Assignment.State.RELEASED
    assert not QueueMembership.objects.filter(queue=queue, user=reviewer).exists()
    release = AuditEvent.objects.get(action="assignment.release", object_id=str(held.pk))
    assert release.actor == manager
    removal = AuditEvent.objects.get(action="membership.remove")
    assert removal.before == {"queue": queue.pk, "user": reviewer.pk, "role": QueueMembership.Role.REVIEWER}


def test_service_by_reviewer_is_denied(queue, reviewer, held):
    with pytest.raises(PermissionDenied):
        membership_remove(actor=reviewer, queue=queue, user=reviewer)

    held.refresh_from_db()
    assert held.state == Assignment.State.CLAIMED
    assert QueueMembership.objects.filter(queue=queue, user=reviewer).exists()


def test_api_removal_answers_next_api_request_404(manager, queue, reviewer, held):
    reviewer_api = token_client(reviewer)
    assert reviewer_api.get(f"/api/v1/assignments/{held.pk}/").status_code == 200

    response = token_client(manager).patch(f"/api/v1/queues/{queue.pk}/", {"reviewers": []}, format="json")

    assert response.status_code == 200
    assert reviewer_api.get(f"/api/v1/assignments/{held.pk}/").status_code == 404
    assert reviewer_api.get(f"/api/v1/items/{held.item_id}/").status_code == 404
    assert reviewer_api.post(f"/api/v1/queues/{queue.pk}/claim/").status_code == 404
    assert reviewer_api.post(f"/api/v1/assignments/{held.pk}/review/", {"verdict": "approved"}).status_code == 404
    held.refresh_from_db()
    assert held.state == Assignment.State.RELEASED


def test_admin_removal_answers_next_workspace_request_404(client, manager, queue, reviewer, held):
    reviewer_client = type(client)()
    reviewer_client.force_login(reviewer)
    workspace_url = reverse("admin:workspace_assignment", args=[held.pk])
    assert reviewer_client.get(workspace_url).status_code == 200

    remove_in_admin(client, manager, queue, reviewer)

    assert reviewer_client.get(workspace_url).status_code == 404
    assert reviewer_client.post(reverse("admin:workspace_claim", args=[queue.pk])).status_code == 404
    assert reviewer_client.get(reverse("admin:reviews_queue_change", args=[queue.pk])).status_code == 404
    assert reviewer_client.get(reverse("admin:reviews_reviewitem_change", args=[held.item_id])).status_code == 404
    held.refresh_from_db()
    assert held.state == Assignment.State.RELEASED
    assert AuditEvent.objects.filter(action="assignment.release", object_id=str(held.pk), actor=manager).exists()


def test_removed_reviewer_history_hides_queue(client, manager, queue, reviewer):
    ReviewItemFactory(queue=queue)
    review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer,
                  verdict="rejected", reason="Reason kept in the removed queue.")
    client.force_login(reviewer)
    history_url = reverse("admin:workspace_history")
    assert "Reason kept in the removed queue." in client.get(history_url).content.decode()

    membership_remove(actor=manager, queue=queue, user=reviewer)

    page = client.get(history_url).content.decode()
    assert "Reason kept in the removed queue." not in page
