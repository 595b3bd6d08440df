import pytest

from exports.models import ExportJob
from exports.tasks import build_export

pytestmark = pytest.mark.django_db


def test_task_has_stable_name():
    assert build_export.name == "exports.build_export"


def test_task_acks_late_and_requeues_on_worker_loss():
    assert build_export.acks_late is True
    assert build_export.reject_on_worker_lost is True


def test_task_soft_limit_precedes_hard_limit():
    assert 0 < build_export.soft_time_limit < build_export.time_limit


def test_task_routes_to_exports_queue(settings):
    from bookbag.celery import app

    route = app.amqp.router.route({}, build_export.name)

    assert route["queue"].name == "exports"


def test_task_builds_queued_job(manager, queue, mixed_items):
    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})

    result = build_export.delay(job.pk)

    job.refresh_from_db()
    assert result.get() == "succeeded"
    assert job.state == ExportJob.State.SUCCEEDED


def test_task_for_finished_job_returns_none(manager, queue):
    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]}, state=ExportJob.State.SUCCEEDED)

    assert build_export.delay(job.pk).get() is None


def test_task_events_are_recorded_as_task_channel(manager, queue):
    from bookbag.audit.models import AuditEvent

    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})

    build_export.delay(job.pk)

    events = AuditEvent.objects.filter(object_type="exports.exportjob", object_id=str(job.pk))
    channels = set(events.values_list("channel", flat=True))
    assert channels == {"task"}


def test_task_events_name_requester_and_request(manager, queue):
    from bookbag.audit.context import audit_context
    from bookbag.audit.models import AuditEvent
    from exports.services import export_request

    with audit_context(channel="api", request_id="req-export-1"):
        job = export_request(
            requester=manager, kind="sft", format="trl", filters={"queues": [queue.slug]}, enqueue=False
        )

    build_export.delay(job.pk)

    start = AuditEvent.objects.get(action="export.start", object_id=str(job.pk))
    assert start.actor_id is None
    assert start.initiator_id == manager.pk
    assert start.request_id == "req-export-1"
