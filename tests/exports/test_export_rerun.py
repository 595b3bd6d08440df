import pytest
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from bookbag.errors import NotFound, PermissionDenied
from exports.models import ExportJob
from exports.services import export_request, export_rerun
from reviews.models import QueueMembership
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


def _source(manager, queue) -> ExportJob:
    job = export_request(requester=manager, kind="dpo", format="openai",
                         filters={"queues": [queue.slug], "verdicts": ["needs_fix"]}, idempotency_key="nightly",
                         enqueue=False)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.FAILED, error="Disk full.")
    job.refresh_from_db()
    return job


def test_rerun_repeats_parameters(manager, queue):
    source = _source(manager, queue)

    rerun = export_rerun(actor=manager, job_id=source.pk)

    assert rerun.pk != source.pk
    assert (rerun.kind, rerun.format, rerun.filters) == (source.kind, source.format, source.filters)
    assert rerun.rerun_of == source
    assert rerun.state == ExportJob.State.QUEUED
    assert rerun.idempotency_key == ""
    assert AuditEvent.objects.get(action="export.request", object_id=str(rerun.pk)).after["rerun_of"] == source.pk


def test_rerun_of_other_managers_job_is_not_found(manager, queue):
    other = ManagerFactory(username="other-manager")
    source = _source(manager, queue)

    with pytest.raises(NotFound) as error:
        export_rerun(actor=other, job_id=source.pk)

    assert error.value.message == f"Export {source.pk} not found among your exports."


def test_reviewer_cannot_rerun(manager, reviewer, queue):
    source = _source(manager, queue)

    with pytest.raises(PermissionDenied):
        export_rerun(actor=reviewer, job_id=source.pk)

    assert ExportJob.objects.count() == 1


def test_rerun_checks_filters_again(manager, queue):
    source = _source(manager, queue)
    QueueMembership.objects.filter(queue=queue, user=manager).update(role=QueueMembership.Role.REVIEWER)

    with pytest.raises(NotFound) as error:
        export_rerun(actor=manager, job_id=source.pk)

    assert queue.slug in error.value.message
    assert ExportJob.objects.count() == 1


def test_api_rerun_answers_202_with_new_job(manager, queue):
    source = _source(manager, queue)
    client = APIClient()
    client.force_authenticate(manager)

    response = client.post(f"/api/v1/exports/{source.pk}/rerun/")

    assert response.status_code == 202
    body = response.json()
    assert body["rerun_of"] == source.pk
    assert body["id"] != source.pk
    assert body["kind"] == "dpo"


def test_api_rerun_of_other_managers_job_is_404(manager, queue):
    source = _source(manager, queue)
    client = APIClient()
    client.force_authenticate(ManagerFactory(username="other-manager"))

    response = client.post(f"/api/v1/exports/{source.pk}/rerun/")

    assert response.status_code == 404
    assert ExportJob.objects.count() == 1


def test_api_rerun_by_reviewer_is_403(manager, reviewer, queue):
    source = _source(manager, queue)
    client = APIClient()
    client.force_authenticate(reviewer)

    assert client.post(f"/api/v1/exports/{source.pk}/rerun/").status_code == 403
