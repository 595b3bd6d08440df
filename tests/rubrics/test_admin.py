import pytest
from django.urls import reverse

from bookbag.audit.models import AuditEvent
from rubrics.models import Criterion, Rubric
from tests.admin_forms import changeform_data
from tests.factories import CriterionFactory, ReviewFactory, ReviewItemFactory, RubricFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:rubrics_rubric_changelist")
ADD = reverse("admin:rubrics_rubric_add")


def change_url(rubric) -> str:
    return reverse("admin:rubrics_rubric_change", args=[rubric.pk])


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rubric(queue):
    rubric = queue.rubric
    CriterionFactory(rubric=rubric, key="correct", label="Correct", position=0)
    CriterionFactory(rubric=rubric, key="tone", label="Tone", kind="scale", min_value=1, max_value=5, position=1)
    return rubric


@pytest.fixture
def referenced(rubric, queue):
    ReviewFactory(item=ReviewItemFactory(queue=queue), rubric=rubric)
    return rubric


def criterion_row(index: int, **values) -> dict:
    row = {"key": "", "label": "", "kind": "pass_fail", "required": "on", "options": "[]", "weight": "1.0", "position": "0"}
    row.update(values)
    return {f"criteria-{index}-{name}": value for name, value in row.items()}


def add_data(client, *rows: dict, **overrides) -> dict:
    data = changeform_data(client.get(ADD))
    data.update({"name": "Safety", "slug": "safety", "guidelines": "Flag unsafe advice."})
    data["criteria-TOTAL_FORMS"] = str(len(rows))
    for index, row in enumerate(rows):
        data.update(criterion_row(index, **row))
    data.update(overrides)
    return data


def edit_data(client, rubric, **changes) -> dict:
    data = changeform_data(client.get(change_url(rubric)))
    data.update(changes)
    return data


def test_manager_creates_rubric_with_criteria(manager_client, manager):
    data = add_data(
        manager_client,
        {"key": "harmless", "label": "Harmless", "position": "2"},
        {"key": "tone", "label": "Tone", "kind": "scale", "min_value": "1", "max_value": "5", "position": "1"},
    )

    response = manager_client.post(ADD, data)

    rubric = Rubric.objects.get(slug="safety")
    assert response.status_code == 302
    assert rubric.version == 1
    assert rubric.created_by == manager
    assert list(rubric.criteria.values_list("key", "position")) == [("tone", 0), ("harmless", 1)]
    assert AuditEvent.objects.get(action="rubric.create").object_id == str(rubric.pk)


def test_add_with_taken_slug_shows_error(manager_client, rubric):
    response = manager_client.post(ADD, add_data(manager_client, slug=rubric.slug))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == [
        f"A rubric with slug “{rubric.slug}” exists already; edit it to make a new version."
    ]


def test_scale_without_bounds_shows_error(manager_client):
    response = manager_client.post(ADD, add_data(manager_client, {"key": "tone", "label": "Tone", "kind": "scale"}))

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[0]["__all__"] == ["Criterion 'tone': a scale needs both min and max."]
    assert not Rubric.objects.filter(slug="safety").exists()


def test_duplicate_criterion_keys_show_error(manager_client):
    data = add_data(manager_client, {"key": "tone", "label": "Tone"}, {"key": "tone", "label": "Tone again"})

    response = manager_client.post(ADD, data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["Please correct the duplicate data for key."]
    assert not Rubric.objects.filter(slug="safety").exists()


def test_edit_unreferenced_rubric_changes_in_place(manager_client, rubric):
    response = manager_client.post(change_url(rubric), edit_data(manager_client, rubric, guidelines="Be brief."))

    assert response.status_code == 302
    rubric.refresh_from_db()
    assert rubric.version == 1
    assert rubric.guidelines == "Be brief."
    assert AuditEvent.objects.get(action="rubric.update").after["guidelines"] == "Be brief."


def test_edit_referenced_rubric_creates_version_two(manager_client, referenced, queue):
    data = edit_data(manager_client, referenced, **{"guidelines": "Be brief.", "criteria-1-max_value": "7"})

    response = manager_client.post(change_url(referenced), data, follow=True)

    new = Rubric.objects.get(slug=referenced.slug, version=2)
    referenced.refresh_from_db()
    queue.refresh_from_db()
    assert queue.rubric == new
    assert new.guidelines == "Be brief."
    assert new.criteria.get(key="tone").max_value == 7
    assert referenced.guidelines != "Be brief."
    assert referenced.criteria.get(key="tone").max_value == 5
    assert response.redirect_chain[-1][0] == CHANGELIST
    messages = [str(message) for message in response.context["messages"]]
    assert messages[0] == (
        f"Reviews reference version 1 of rubric “{referenced.slug}”, so your edit was saved as version 2. "
        f"Queues now on version 2: {queue.name}."
    )


def test_continue_after_new_version_opens_it(manager_client, referenced):
    data = edit_data(manager_client, referenced, guidelines="Be brief.", _continue="1")

    response = manager_client.post(change_url(referenced), data)

    new = Rubric.objects.get(slug=referenced.slug, version=2)
    assert response.url == change_url(new)


def test_unchanged_save_keeps_version(manager_client, referenced):
    response = manager_client.post(change_url(referenced), edit_data(manager_client, referenced))

    assert response.status_code == 302
    assert not Rubric.objects.filter(slug=referenced.slug, version=2).exists()


def test_referenced_rubric_page_warns_of_new_version(manager_client, referenced):
    content = manager_client.get(change_url(referenced)).content.decode()

    assert "Reviews reference version 1, so saving a change creates version 2" in content


def test_superseded_version_is_read_only(manager_client, referenced):
    manager_client.post(change_url(referenced), edit_data(manager_client, referenced, guidelines="Be brief."))

    page = manager_client.get(change_url(referenced))
    post = manager_client.post(change_url(referenced), {"name": "Rewritten history"})

    assert page.context["title"] == "View rubric"
    assert "Version 1 is superseded by" in page.content.decode()
    assert post.status_code == 403


def test_reviewer_cannot_add_rubric(client, reviewer):
    client.force_login(reviewer)

    page = client.get(ADD)
    post = client.post(ADD, {"name": "Mine", "slug": "mine"})

    assert page.status_code == 403
    assert post.status_code == 403
    assert not Rubric.objects.filter(slug="mine").exists()


def test_reviewer_views_queue_rubric_read_only(client, reviewer, rubric):
    client.force_login(reviewer)

    page = client.get(change_url(rubric))
    post = client.post(change_url(rubric), {"name": "Renamed"})

    assert page.context["title"] == "View rubric"
    assert post.status_code == 403


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_outsider_rubric_pages_are_not_found(client, outsider, rubric, view):
    client.force_login(outsider)

    response = client.get(reverse(f"admin:rubrics_rubric_{view}", args=[rubric.pk]))

    assert response.status_code == 404


def test_reviewer_changelist_hides_other_rubrics(client, reviewer, rubric):
    other = RubricFactory(name="Other team rubric")
    client.force_login(reviewer)

    response = client.get(CHANGELIST)

    assert [row.pk for row in response.context["cl"].result_list] == [rubric.pk]
    assert other.name not in response.content.decode()


def test_rubric_delete_is_forbidden(manager_client, rubric):
    response = manager_client.post(reverse("admin:rubrics_rubric_delete", args=[rubric.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Criterion.objects.filter(rubric=rubric).count() == 2


@pytest.mark.parametrize("rows", [1, 5])
def test_changelist_query_count_is_flat(client, rows, django_assert_num_queries):
    author = UserFactory(username="author")
    for _ in range(rows):
        CriterionFactory(rubric=RubricFactory(created_by=author))
    client.force_login(UserFactory(username="root", is_superuser=True))

    with django_assert_num_queries(4):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows

