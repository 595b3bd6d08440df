import re

import pytest
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from reviews.models import Assignment, Queue, QueueMembership
from reviews.services import assignment_claim
from tests.admin_forms import changeform_data
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory, ReviewItemFactory, RubricFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:reviews_queue_changelist")
ADD = reverse("admin:reviews_queue_add")


def change_url(queue) -> str:
    return reverse("admin:reviews_queue_change", args=[queue.pk])


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def add_form_data(client, **overrides) -> dict:
    data = changeform_data(client.get(ADD))
    data.update({"name": "Router replies", "slug": "router-replies", "rubric": str(RubricFactory().pk)})
    data.update(overrides)
    return data


def test_changelist_shows_reviewer_own_queues(client, reviewer, queue):
    other = QueueFactory()
    client.force_login(reviewer)

    response = client.get(CHANGELIST)

    assert [row.pk for row in response.context["cl"].result_list] == [queue.pk]
    assert other.name not in response.content.decode()


def test_changelist_shows_superuser_every_queue(client, queue):
    other = QueueFactory()
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = client.get(CHANGELIST)

    assert {row.pk for row in response.context["cl"].result_list} == {queue.pk, other.pk}


@pytest.mark.parametrize("rows", [1, 5])
def test_changelist_query_count_is_flat(client, manager, rows, django_assert_num_queries):
    for _ in range(rows):
        MembershipFactory(queue=QueueFactory(), user=manager, role=QueueMembership.Role.MANAGER)
    client.force_login(manager)

    with django_assert_num_queries(6):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows


def test_reviewer_cannot_add_queue(client, reviewer):
    client.force_login(reviewer)

    page = client.get(ADD)
    post = client.post(ADD, {"name": "Sneaky", "slug": "sneaky"})

    assert page.status_code == 403
    assert post.status_code == 403
    assert not Queue.objects.filter(slug="sneaky").exists()


def test_reviewer_views_own_queue_read_only(client, reviewer, queue):
    client.force_login(reviewer)

    page = client.get(change_url(queue))
    post = client.post(change_url(queue), {"name": "Renamed"})

    assert page.status_code == 200
    assert page.context["title"] == "View queue"
    assert post.status_code == 403
    queue.refresh_from_db()
    assert queue.name != "Renamed"


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_outsider_queue_pages_are_not_found(client, outsider, queue, view):
    client.force_login(outsider)

    response = client.get(reverse(f"admin:reviews_queue_{view}", args=[queue.pk]))

    assert response.status_code == 404


def test_manager_reviewing_queue_cannot_change_it(client, queue):
    other_manager = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other_manager, role=QueueMembership.Role.REVIEWER)
    client.force_login(other_manager)

    response = client.post(change_url(queue), {"name": "Taken over"})

    assert response.status_code == 403
    queue.refresh_from_db()
    assert queue.name != "Taken over"


def test_manager_creates_queue_with_members(manager_client, manager, reviewer):
    lead = UserFactory(username="lead")
    data = add_form_data(
        manager_client,
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-0-user": str(reviewer.pk), "memberships-0-role": "reviewer",
            "memberships-1-user": str(lead.pk), "memberships-1-role": "lead",
            "lease_minutes": "45",
        },
    )

    response = manager_client.post(ADD, data)

    queue = Queue.objects.get(slug="router-replies")
    assert response.status_code == 302
    assert queue.lease_minutes == 45
    assert queue.created_by == manager
    roles = dict(queue.memberships.values_list("user__username", "role"))
    assert roles == {"manager": "manager", "reviewer": "reviewer", "lead": "lead"}
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["queue.create", "membership.set", "membership.set", "membership.set"]
    assert all(event.channel == "admin" for event in AuditEvent.objects.all())


def test_add_with_taken_slug_shows_error(manager_client, queue):
    response = manager_client.post(ADD, add_form_data(manager_client, slug=queue.slug))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == ["Queue with this Slug already exists."]
    assert not AuditEvent.objects.exists()


def test_manager_updates_queue_through_service(manager_client, queue):
    data = changeform_data(manager_client.get(change_url(queue)))
    data["lease_minutes"] = "90"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 302
    queue.refresh_from_db()
    assert queue.lease_minutes == 90
    event = AuditEvent.objects.get(action="queue.update")
    assert event.before["lease_minutes"] == 30
    assert event.after["lease_minutes"] == 90


def test_invalid_lease_shows_error(manager_client, queue):
    data = changeform_data(manager_client.get(change_url(queue)))
    data["lease_minutes"] = "0"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["lease_minutes"] == [
        "Ensure this value is greater than or equal to 1."
    ]


def input_tag(content: str, name: str) -> str:
    return re.search(rf'<input [^>]*name="{name}"[^>]*>', content).group(0)


def test_form_limits_match_model_validation(manager_client):
    content = manager_client.get(ADD).content.decode()

    assert 'min="1"' in input_tag(content, "reviews_per_item")
    assert 'max="10"' in input_tag(content, "reviews_per_item")
    assert 'min="1"' in input_tag(content, "lease_minutes")
    assert 'max="1440"' in input_tag(content, "lease_minutes")
    assert 'min="0"' in input_tag(content, "edit_window_minutes")
    assert 'max="10080"' in input_tag(content, "edit_window_minutes")
    assert 'min="0.0"' in input_tag(content, "sampling_rate")
    assert 'max="1.0"' in input_tag(content, "sampling_rate")


def test_zero_reviews_per_item_shows_error(manager_client, queue):
    data = changeform_data(manager_client.get(change_url(queue)))
    data["reviews_per_item"] = "0"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reviews_per_item"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    queue.refresh_from_db()
    assert queue.reviews_per_item == 1


def test_rubric_choices_offer_latest_versions(manager_client, queue):
    old = RubricFactory(slug="tone", version=1)
    new = RubricFactory(slug="tone", version=2)

    response = manager_client.get(change_url(queue))

    offered = set(response.context["adminform"].form.fields["rubric"].queryset)
    assert new in offered
    assert old not in offered


def test_manager_adds_member_inline(manager_client, queue):
    newcomer = UserFactory(username="newcomer")
    data = changeform_data(manager_client.get(change_url(queue)))
    extra = int(data["memberships-INITIAL_FORMS"])
    data[f"memberships-{extra}-user"] = str(newcomer.pk)
    data[f"memberships-{extra}-role"] = "lead"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 302
    assert QueueMembership.objects.get(queue=queue, user=newcomer).role == "lead"
    assert AuditEvent.objects.get(action="membership.set").after["user"] == newcomer.pk


def test_manager_changes_member_role_inline(manager_client, queue, reviewer):
    response = manager_client.get(change_url(queue))
    data = changeform_data(response)
    index = next(
        i for i, form in enumerate(response.context["inline_admin_formsets"][0].formset.forms)
        if form.instance.user_id == reviewer.pk
    )
    data[f"memberships-{index}-role"] = "lead"

    manager_client.post(change_url(queue), data)

    assert QueueMembership.objects.get(queue=queue, user=reviewer).role == "lead"
    assert AuditEvent.objects.get(action="membership.set").before == {"role": "reviewer"}


def test_manager_removes_member_inline(manager_client, queue, reviewer):
    ReviewItemFactory(queue=queue)
    held = assignment_claim(queue=queue, reviewer=reviewer)
    response = manager_client.get(change_url(queue))
    data = changeform_data(response)
    index = next(
        i for i, form in enumerate(response.context["inline_admin_formsets"][0].formset.forms)
        if form.instance.user_id == reviewer.pk
    )
    data[f"memberships-{index}-DELETE"] = "on"

    manager_client.post(change_url(queue), data)

    assert not QueueMembership.objects.filter(queue=queue, user=reviewer).exists()
    held.refresh_from_db()
    assert held.state == Assignment.State.RELEASED
    assert AuditEvent.objects.filter(action="membership.remove").count() == 1


def test_manager_cannot_demote_self(manager_client, manager, queue):
    response = manager_client.get(change_url(queue))
    data = changeform_data(response)
    index = next(
        i for i, form in enumerate(response.context["inline_admin_formsets"][0].formset.forms)
        if form.instance.user_id == manager.pk
    )
    data[f"memberships-{index}-role"] = "reviewer"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "You cannot remove or demote your own manager membership; another manager has to do it."
    ]
    assert QueueMembership.objects.get(queue=queue, user=manager).role == "manager"


def test_duplicate_member_rows_show_error(manager_client, queue, reviewer):
    data = changeform_data(manager_client.get(change_url(queue)))
    extra = int(data["memberships-INITIAL_FORMS"])
    data[f"memberships-{extra}-user"] = str(reviewer.pk)
    data[f"memberships-{extra}-role"] = "lead"

    response = manager_client.post(change_url(queue), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert errors == ["Please correct the duplicate data for user."]
    assert QueueMembership.objects.get(queue=queue, user=reviewer).role == "reviewer"


def test_duplicate_member_rows_on_add_show_error(manager_client, reviewer):
    data = add_form_data(
        manager_client,
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-0-user": str(reviewer.pk), "memberships-0-role": "reviewer",
            "memberships-1-user": str(reviewer.pk), "memberships-1-role": "lead",
        },
    )

    response = manager_client.post(ADD, data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert errors == ["Please correct the duplicate data for user."]
    assert not Queue.objects.filter(slug="router-replies").exists()


def test_member_choices_exclude_inactive_users(manager_client, queue):
    UserFactory(username="retired", is_active=False)

    response = manager_client.get(change_url(queue))

    field = response.context["inline_admin_formsets"][0].formset.forms[0].fields["user"]
    usernames = set(field.queryset.values_list("username", flat=True))
    assert "retired" not in usernames
    assert "manager" in usernames


def test_queue_delete_is_forbidden(manager_client, queue):
    response = manager_client.post(reverse("admin:reviews_queue_delete", args=[queue.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_manager_cannot_join_new_queue_as_reviewer(manager_client, manager):
    data = add_form_data(
        manager_client,
        **{"memberships-0-user": str(manager.pk), "memberships-0-role": "reviewer"},
    )

    response = manager_client.post(ADD, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "You cannot remove or demote your own manager membership; another manager has to do it."
    ]
    assert not Queue.objects.filter(slug="router-replies").exists()


def test_form_explains_routing_rules(manager_client):
    form = manager_client.get(ADD).context["adminform"].form

    help_text = form.fields["routing_rules"].help_text
    assert '"source"' in help_text
    assert '"metadata"' in help_text
    assert "Empty rules take nothing" in help_text
