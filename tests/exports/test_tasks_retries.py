import datetime

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from bookbag.audit.models import AuditEvent
from exports.models import ExportJob
from exports.services import export_request
from exports.tasks import (
    BUILD_MAX_RETRIES,
    BUILD_RETRY_BASE_SECONDS,
    BUILD_RETRY_MAX_SECONDS,
    backoff_seconds,
    build_export,
)
from tests.exports.task_fixtures import published, retry_countdowns  # noqa: F401 (fixtures used below)

pytestmark = pytest.mark.django_db


def _queued_job(manager, queue, filters=None) -> ExportJob:
    return export_request(requester=manager, kind="both", format="trl",
                          filters=filters or {"queues": [queue.slug]}, enqueue=False)


class FailingHeartbeat:
    """Raise OperationalError, as a dropped database connection does, on the first ``times`` heartbeat writes."""

    def __init__(self, times: int) -> None:
        self.remaining = times

    def __call__(self, execute, sql, params, many, context):
        if self.remaining and sql.startswith('UPDATE "exports_exportjob" SET "heartbeat_at"'):
            self.remaining -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def _blocked_storage(settings, tmp_path) -> None:
    """Point the media folder at a file, so storing the bundle raises OSError like a failed volume."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker


def test_build_retries_are_few():
    assert build_export.max_retries == BUILD_MAX_RETRIES == 3


def test_backoff_doubles_until_maximum():
    for retries, expected in [(0, 15), (1, 30), (2, 60), (3, 120), (10, BUILD_RETRY_MAX_SECONDS)]:
        delay = backoff_seconds(retries, base=BUILD_RETRY_BASE_SECONDS, maximum=BUILD_RETRY_MAX_SECONDS)
        assert expected <= delay <= expected * 1.1 + 1


# Outside a test transaction, as in a worker: an error inside one would doom the rest of the test's queries.
@pytest.mark.django_db(transaction=True)
def test_transient_database_error_is_retried(manager, queue, mixed_items, retry_countdowns):
    job = _queued_job(manager, queue)

    with connection.execute_wrapper(FailingHeartbeat(times=1)):
        result = build_export.delay(job.pk)

    job.refresh_from_db()
    assert result.get() == "succeeded"
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.attempts == 2
    assert job.error == ""
    assert len(retry_countdowns) == 1
    assert BUILD_RETRY_BASE_SECONDS <= retry_countdowns[0] <= BUILD_RETRY_BASE_SECONDS * 1.1 + 1
    retry_event = AuditEvent.objects.get(object_id=str(job.pk), action="export.retry")
    assert retry_event.after["state"] == "queued"
    assert retry_event.after["error"].startswith("Attempt 1 failed and will be retried: Unexpected error while ")


def test_storage_error_fails_after_retries(manager, queue, mixed_items, settings, tmp_path, retry_countdowns):
    _blocked_storage(settings, tmp_path)
    job = _queued_job(manager, queue)

    result = build_export.delay(job.pk)

    job.refresh_from_db()
    assert result.failed()
    assert isinstance(result.result, OSError)
    assert job.state == ExportJob.State.FAILED
    assert job.attempts == BUILD_MAX_RETRIES + 1
    assert job.error.startswith("Unexpected error while building the bundle: ")
    assert job.error.endswith(f"(attempt {BUILD_MAX_RETRIES + 1}; no retries left)")
    assert not job.bundle
    assert len(retry_countdowns) == BUILD_MAX_RETRIES
    for retries, countdown in enumerate(retry_countdowns):
        expected = BUILD_RETRY_BASE_SECONDS * 2**retries
        assert expected <= countdown <= expected * 1.1 + 1


def test_validation_error_is_not_retried(manager, queue, mixed_items, retry_countdowns):
    earlier = _queued_job(manager, queue)
    ExportJob.objects.filter(pk=earlier.pk).update(state=ExportJob.State.SUCCEEDED, started_at=timezone.now())
    job = _queued_job(manager, queue, filters={"queues": [queue.slug], "since_export": earlier.pk})
    ExportJob.objects.filter(pk=earlier.pk).delete()

    result = build_export.delay(job.pk)

    job.refresh_from_db()
    assert result.get() == "failed"
    assert job.state == ExportJob.State.FAILED
    assert job.attempts == 1
    assert "no longer exists" in job.error
    assert retry_countdowns == []


def test_busy_job_deferred_until_stale(manager, queue, published, settings):
    settings.BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT = 300
    job = _queued_job(manager, queue)
    heartbeat = timezone.now() - datetime.timedelta(seconds=100)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, attempts=1, heartbeat_at=heartbeat)

    # Called directly, the task runs here as a worker would run it, and sends its follow-up through the broker.
    result = build_export(job.pk)

    assert result == "deferred"
    assert [(message["task"], message["args"]) for message in published] == [("exports.build_export", [job.pk])]
    eta = datetime.datetime.fromisoformat(published[0]["eta"])
    expected = heartbeat + datetime.timedelta(seconds=300)
    assert expected <= eta <= expected + datetime.timedelta(seconds=5)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 1)


def test_busy_job_in_process_skipped(manager, queue):
    job = _queued_job(manager, queue)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, attempts=1, heartbeat_at=timezone.now())

    assert build_export.delay(job.pk).get() is None

    job.refresh_from_db()
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 1)
