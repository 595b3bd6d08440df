import html

import factory
import pytest
from django.urls import reverse

from exports.admin import count_text
from exports.models import ExportJob
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:exports_exportjob_changelist")
# The counts of a built bundle, in the shape that the manifest schema fixes.
BUILT_COUNTS = {
    "items": 16,
    "verdicts": {"approved": 12, "needs_fix": 3, "rejected": 1},
    "rows": {"sft": 15, "dpo": 3},
    "duplicates_removed": {"sft": 1, "dpo": 0},
    "dpo_pairs_dropped_identical": 0,
    "trivial_edits": 1,
    "rows_invalid": 0,
    "items_skipped_invalid": 2,
    "redacted": {"email": 4, "card": 0, "ssn": 0, "phone": 1},
}


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    requester = factory.SubFactory(ManagerFactory)
    kind = ExportJob.Kind.BOTH
    format = ExportJob.Format.TRL


def listed(client) -> set[int]:
    return {job.pk for job in client.get(CHANGELIST).context["cl"].result_list}


def test_manager_sees_own_jobs(client, manager):
    own = ExportJobFactory(requester=manager)
    ExportJobFactory(requester=ManagerFactory(username="other-manager"))
    client.force_login(manager)

    assert listed(client) == {own.pk}


def test_superuser_sees_every_job(client, manager):
    jobs = [ExportJobFactory(requester=manager), ExportJobFactory()]
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert listed(client) == {job.pk for job in jobs}


def test_reviewer_cannot_list_jobs(client, reviewer):
    client.force_login(reviewer)

    assert client.get(CHANGELIST).status_code == 403


def test_reviewer_index_hides_exports(client, reviewer):
    client.force_login(reviewer)

    response = client.get(reverse("admin:index"))

    app_labels = {app["app_label"] for app in response.context["app_list"]}
    assert "exports" not in app_labels


def test_other_managers_job_is_not_found(client, manager):
    job = ExportJobFactory(requester=ManagerFactory(username="other-manager"))
    client.force_login(manager)

    response = client.get(reverse("admin:exports_exportjob_change", args=[job.pk]))

    assert response.status_code == 404


def test_succeeded_job_links_to_download(client, manager):
    done = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=BUILT_COUNTS)
    running = ExportJobFactory(requester=manager, state=ExportJob.State.RUNNING, rows_done=1, rows_total=4)
    client.force_login(manager)

    content = client.get(CHANGELIST).content.decode()

    assert f'<a href="/api/v1/exports/{done.pk}/download/">Download</a>' in content
    assert f"/api/v1/exports/{running.pk}/download/" not in content


def test_changelist_names_count_columns(client, manager):
    ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=BUILT_COUNTS)
    client.force_login(manager)

    response = client.get(CHANGELIST)

    headers = [header["text"] for header in response.context["result_headers"]]
    assert headers[headers.index("progress") + 1:headers.index("progress") + 4] == [
        "items", "data file rows", "verdicts"
    ]
    assert "rows" not in headers
    assert "counts" not in headers


def test_changelist_shows_counts_readably(client, manager):
    ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=BUILT_COUNTS)
    client.force_login(manager)

    content = html.unescape(client.get(CHANGELIST).content.decode())

    assert '<td class="field-items_display">16</td>' in content
    assert '<td class="field-data_rows_display">dpo 3 · sft 15</td>' in content
    assert '<td class="field-verdicts_display">approved 12 · needs_fix 3 · rejected 1</td>' in content
    assert "{" not in content[content.index('id="result_list"'):]


def test_progress_counts_items_not_rows(client, manager):
    ExportJobFactory(requester=manager, state=ExportJob.State.RUNNING, rows_done=1, rows_total=4)
    client.force_login(manager)

    content = client.get(CHANGELIST).content.decode()

    assert "1 / 4 items, 25%" in content
    assert "1 / 4 rows" not in content


def test_unbuilt_job_shows_dashes_for_counts(client, manager):
    ExportJobFactory(requester=manager)
    client.force_login(manager)

    content = client.get(CHANGELIST).content.decode()

    for column in ("items_display", "data_rows_display", "verdicts_display"):
        assert f'<td class="field-{column}">—</td>' in content


def test_change_page_shows_counts_table(client, manager):
    job = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=BUILT_COUNTS)
    client.force_login(manager)

    content = html.unescape(client.get(reverse("admin:exports_exportjob_change", args=[job.pk])).content.decode())

    assert '<table class="export-counts">' in content
    assert "<th scope=\"row\">Items</th><td>16</td>" in content
    assert "<th scope=\"row\">Verdicts</th><td>approved 12 · needs_fix 3 · rejected 1</td>" in content
    assert "<th scope=\"row\">Rows per data file</th><td>dpo 3 · sft 15</td>" in content
    assert "<th scope=\"row\">Duplicate rows removed</th><td>dpo 0 · sft 1</td>" in content
    assert "<th scope=\"row\">Items skipped as invalid</th><td>2</td>" in content
    assert "<th scope=\"row\">Redacted</th><td>card 0 · email 4 · phone 1 · ssn 0</td>" in content
    assert "{'approved'" not in content


def test_change_page_lists_unknown_count_keys(client, manager):
    counts = {"items": 2, "future_count": 7, "future_split": {"train": 1}}
    job = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=counts)
    client.force_login(manager)

    content = html.unescape(client.get(reverse("admin:exports_exportjob_change", args=[job.pk])).content.decode())

    assert "<th scope=\"row\">future_count</th><td>7</td>" in content
    assert "<th scope=\"row\">future_split</th><td>train 1</td>" in content


def test_change_page_sorts_unknown_count_keys(client, manager):
    counts = {"items": 2, "zeta_count": 1, "alpha_count": 3}
    job = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=counts)
    client.force_login(manager)

    content = client.get(reverse("admin:exports_exportjob_change", args=[job.pk])).content.decode()

    assert content.index("Items</th>") < content.index("alpha_count") < content.index("zeta_count")


@pytest.mark.parametrize(("value", "text"), [
    (16, "16"),
    (0, "0"),
    (None, "—"),
    ({}, "—"),
    ({"sft": 15, "dpo": 3}, "dpo 3 · sft 15"),
    ({"rejected": 1, "needs_fix": 3, "approved": 12}, "approved 12 · needs_fix 3 · rejected 1"),
])
def test_count_text_formats_value(value, text):
    assert count_text(value) == text


def test_change_page_escapes_count_keys(client, manager):
    counts = {"items": 1, "<script>alert(1)</script>": {"<b>kind</b>": 1}}
    job = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts=counts)
    client.force_login(manager)

    content = client.get(reverse("admin:exports_exportjob_change", args=[job.pk])).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;b&gt;kind&lt;/b&gt; 1" in content


def test_jobs_are_read_only(client, manager):
    job = ExportJobFactory(requester=manager)
    client.force_login(manager)

    add = client.get(reverse("admin:exports_exportjob_add"))
    change = client.post(reverse("admin:exports_exportjob_change", args=[job.pk]), {"state": "succeeded"})
    delete = client.post(reverse("admin:exports_exportjob_delete", args=[job.pk]), {"post": "yes"})

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    job.refresh_from_db()
    assert job.state == ExportJob.State.QUEUED


@pytest.mark.parametrize("rows", [1, 5])
def test_changelist_query_count_is_flat(client, manager, rows, django_assert_num_queries):
    ExportJobFactory.create_batch(rows, requester=manager, state=ExportJob.State.SUCCEEDED, counts=BUILT_COUNTS)
    client.force_login(manager)

    with django_assert_num_queries(6):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows


def test_built_job_counts_on_changelist(client, manager, build, mixed_items):
    job = build()
    client.force_login(manager)

    content = html.unescape(client.get(CHANGELIST).content.decode())

    assert f"{job.rows_total} / {job.rows_total} items, 100%" in content
    assert '<td class="field-items_display">4</td>' in content
    assert '<td class="field-data_rows_display">dpo 2 · sft 3</td>' in content
    assert '<td class="field-verdicts_display">approved 1 · needs_fix 2 · rejected 1</td>' in content
