import factory
import pytest
from django.urls import reverse

from exports.models import ExportJob
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:exports_exportjob_changelist")


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
    done = ExportJobFactory(requester=manager, state=ExportJob.State.SUCCEEDED, counts={"sft": 3, "dpo": 1})
    running = ExportJobFactory(requester=manager, state=ExportJob.State.RUNNING, rows_done=1, rows_total=4)
    client.force_login(manager)

    content = client.get(CHANGELIST).content.decode()

    assert f'<a href="/api/v1/exports/{done.pk}/download/">Download</a>' in content
    assert f"/api/v1/exports/{running.pk}/download/" not in content
    assert "dpo: 1, sft: 3" in content
    assert "25%" in content


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
    ExportJobFactory.create_batch(rows, requester=manager)
    client.force_login(manager)

    with django_assert_num_queries(6):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == rows
