import datetime
import hashlib

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from bookbag.audit.models import AuditEvent
from exports import lifecycle, services
from exports.lifecycle import (
    JobBusy, JobSuperseded, export_fail_stale, export_resend_unstarted, job_claim, job_fail, job_heartbeat,
)
from exports.models import ExportJob
from exports.services import export_build, export_request
from exports.tasks import fail_stale_exports
from reviews.models import Review

pytestmark = pytest.mark.django_db


def _queued_job(manager, queue) -> ExportJob:
    return export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]},
                          enqueue=False)


def _running_job(manager, queue, *, heartbeat_age: datetime.timedelta, attempts: int = 1) -> ExportJob:
    """A job whose build attempt ``attempts`` last sent a heartbeat ``heartbeat_age`` ago."""
    job = _queued_job(manager, queue)
    moment = timezone.now() - heartbeat_age
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.RUNNING, attempts=attempts, started_at=moment, heartbeat_at=moment, rows_done=3,
    )
    job.refresh_from_db()
    return job


def _actions(job) -> list[str]:
    events = AuditEvent.objects.filter(object_type="exports.exportjob", object_id=str(job.pk)).order_by("id")
    return list(events.values_list("action", flat=True))


def _stored_bundles(media_root) -> list[str]:
    folder = media_root / "exports"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


STALE = datetime.timedelta(seconds=django_settings.BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT + 60)
FRESH = datetime.timedelta(seconds=5)


def test_claim_starts_queued_job(manager, queue):
    job = job_claim(job_id=_queued_job(manager, queue).pk)

    assert job.state == ExportJob.State.RUNNING
    assert job.attempts == 1
    assert job.heartbeat_at is not None
    assert job.heartbeat_at == job.started_at
    assert _actions(job) == ["export.request", "export.start"]


def test_claim_fresh_running_job_busy(manager, queue):
    job = _running_job(manager, queue, heartbeat_age=FRESH)

    with pytest.raises(JobBusy) as busy:
        job_claim(job_id=job.pk)

    timeout = django_settings.BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT
    assert timeout - 10 < busy.value.retry_after <= timeout - 5
    job.refresh_from_db()
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 1)


def test_claim_skips_finished_and_missing(manager, queue):
    job = _queued_job(manager, queue)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.SUCCEEDED)

    assert job_claim(job_id=job.pk) is None
    assert job_claim(job_id=job.pk + 1000) is None


def test_heartbeat_records_time_and_progress(manager, queue):
    job = _running_job(manager, queue, heartbeat_age=FRESH)
    before = job.heartbeat_at

    job_heartbeat(job, rows_done=7)

    job.refresh_from_db()
    assert job.heartbeat_at > before
    assert job.rows_done == 7


def test_heartbeat_without_progress_keeps_rows(manager, queue):
    job = _running_job(manager, queue, heartbeat_age=FRESH)
    before = job.heartbeat_at

    job_heartbeat(job)

    job.refresh_from_db()
    assert job.heartbeat_at > before
    assert job.rows_done == 3


def test_heartbeat_of_replaced_attempt_raises(manager, queue):
    job = _running_job(manager, queue, heartbeat_age=FRESH)
    ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)

    with pytest.raises(JobSuperseded):
        job_heartbeat(job, rows_done=9)

    job.refresh_from_db()
    assert job.rows_done == 3


def test_fail_of_replaced_attempt_changes_nothing(manager, queue):
    job = _running_job(manager, queue, heartbeat_age=FRESH)
    ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)

    assert job_fail(job, message="Disk full.") is False

    job.refresh_from_db()
    assert job.state == ExportJob.State.RUNNING
    assert job.error == ""


def test_build_sends_heartbeat_per_chunk(manager, queue, make_reviewed, monkeypatch, django_assert_max_num_queries):
    for _ in range(5):
        make_reviewed(Review.Verdict.APPROVED)
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = _queued_job(manager, queue)

    with django_assert_max_num_queries(100) as captured:
        export_build(job_id=job.pk)

    heartbeats = [
        query["sql"] for query in captured.captured_queries
        if query["sql"].startswith('UPDATE "exports_exportjob" SET "rows_done"') and '"heartbeat_at"' in query["sql"]
    ]
    assert len(heartbeats) == 2
    job.refresh_from_db()
    assert job.heartbeat_at >= job.started_at


def test_fresh_running_job_is_not_rebuilt(manager, queue, mixed_items):
    job = _running_job(manager, queue, heartbeat_age=FRESH)

    with pytest.raises(JobBusy):
        export_build(job_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 1)
    assert not job.bundle


def test_stale_running_job_is_taken_over(manager, queue, mixed_items, media_root):
    job = _running_job(manager, queue, heartbeat_age=STALE)

    built = export_build(job_id=job.pk)

    job.refresh_from_db()
    assert built.pk == job.pk
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.attempts == 2
    assert (job.rows_done, job.rows_total) == (4, 4)
    assert _actions(job) == ["export.request", "export.takeover", "export.succeed"]
    assert _stored_bundles(media_root) == [f"bundle-{job.pk}.zip"]


def test_takeover_replaces_orphan_file(manager, queue, mixed_items, media_root):
    job = _running_job(manager, queue, heartbeat_age=STALE)
    (media_root / "exports").mkdir(parents=True)
    # An earlier attempt that stopped between storing its zip and committing left this file behind.
    (media_root / "exports" / f"bundle-{job.pk}.zip").write_bytes(b"half a zip")

    export_build(job_id=job.pk)

    job.refresh_from_db()
    assert job.bundle.name == f"exports/bundle-{job.pk}.zip"
    assert _stored_bundles(media_root) == [f"bundle-{job.pk}.zip"]
    with job.bundle.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == job.sha256


def test_takeover_stops_earlier_attempt(manager, queue, make_reviewed, monkeypatch, media_root,
                                                          settings):
    for _ in range(3):
        make_reviewed(Review.Verdict.APPROVED)
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = _queued_job(manager, queue)
    takeovers = []

    def another_worker_takes_over(seconds: float) -> None:
        # Runs in the pause after the first chunk's heartbeat, as a second worker would after a long stall.
        if not takeovers:
            ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
            takeovers.append(job_claim(job_id=job.pk))

    settings.BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS = 0.01
    monkeypatch.setattr(lifecycle.time, "sleep", another_worker_takes_over)

    result = export_build(job_id=job.pk)

    job.refresh_from_db()
    assert result is None
    assert takeovers[0].attempts == 2
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 2)
    assert not job.bundle
    assert _stored_bundles(media_root) == []


def test_late_takeover_blocks_storing(manager, queue, mixed_items, monkeypatch,
                                                                   media_root, settings):
    job = _queued_job(manager, queue)

    def another_worker_takes_over(seconds: float) -> None:
        # With fewer rows than one chunk, the only pause follows the heartbeat just before the zip is stored.
        ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
        job_claim(job_id=job.pk)

    settings.BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS = 0.01
    monkeypatch.setattr(lifecycle.time, "sleep", another_worker_takes_over)

    result = export_build(job_id=job.pk)

    job.refresh_from_db()
    assert result is None
    assert (job.state, job.attempts) == (ExportJob.State.RUNNING, 2)
    assert _stored_bundles(media_root) == []
    assert "export.succeed" not in _actions(job)


def test_stale_job_out_of_attempts_is_failed(manager, queue, mixed_items, settings):
    settings.BOOKBAG_EXPORT_MAX_ATTEMPTS = 3
    job = _running_job(manager, queue, heartbeat_age=STALE, attempts=3)

    result = export_build(job_id=job.pk)

    job.refresh_from_db()
    assert result is None
    assert job.state == ExportJob.State.FAILED
    assert job.attempts == 3
    assert job.error.startswith("Build attempt 3 stopped sending heartbeats (the last at ")
    assert "BOOKBAG_EXPORT_MAX_ATTEMPTS" in job.error
    assert _actions(job)[-1] == "export.fail"


def test_sweep_fails_long_stale_job(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _running_job(manager, queue, heartbeat_age=datetime.timedelta(seconds=3700))
    last_seen = job.heartbeat_at.isoformat(timespec="seconds")

    failed = export_fail_stale()

    job.refresh_from_db()
    assert failed == [job.pk]
    assert job.state == ExportJob.State.FAILED
    assert job.finished_at is not None
    assert job.error == (
        f"Build attempt 1 stopped sending heartbeats at {last_seen}, and no worker took the job over within "
        "3600 seconds. Re-run the export."
    )
    event = AuditEvent.objects.get(object_id=str(job.pk), action="export.fail")
    assert event.actor is None
    assert event.before == {"state": "running", "attempts": 1}


def test_sweep_leaves_recently_stale_job(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _running_job(manager, queue, heartbeat_age=STALE)

    assert export_fail_stale() == []

    job.refresh_from_db()
    assert job.state == ExportJob.State.RUNNING


def test_sweep_fails_retry_that_never_started(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _running_job(manager, queue, heartbeat_age=datetime.timedelta(hours=2))
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.QUEUED)

    assert export_fail_stale() == [job.pk]

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.error.startswith("Attempt 1 failed with a temporary error at ")
    assert job.error.endswith("and its retry did not start within 3600 seconds. Re-run the export.")


def test_sweep_leaves_other_jobs(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 60
    long_ago = timezone.now() - datetime.timedelta(days=2)
    waiting = _queued_job(manager, queue)
    done = _running_job(manager, queue, heartbeat_age=datetime.timedelta(days=2))
    ExportJob.objects.filter(pk=waiting.pk).update(created_at=long_ago)
    ExportJob.objects.filter(pk=done.pk).update(state=ExportJob.State.SUCCEEDED)

    assert export_fail_stale() == []

    states = dict(ExportJob.objects.values_list("pk", "state"))
    assert states == {waiting.pk: ExportJob.State.QUEUED, done.pk: ExportJob.State.SUCCEEDED}


def _unstarted_job(manager, queue, *, age: datetime.timedelta, resent_age: datetime.timedelta | None = None):
    """A queued job whose first build never started, requested ``age`` ago and resent ``resent_age`` ago."""
    job = _queued_job(manager, queue)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=now - age, heartbeat_at=None if resent_age is None else now - resent_age,
    )
    job.refresh_from_db()
    return job


def test_resend_builds_unstarted_job(manager, queue, mixed_items, settings, django_capture_on_commit_callbacks):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _unstarted_job(manager, queue, age=datetime.timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        resent = export_resend_unstarted()

    job.refresh_from_db()
    assert resent == [job.pk]
    assert job.state == ExportJob.State.SUCCEEDED
    assert job.attempts == 1
    assert _actions(job) == ["export.request", "export.resend", "export.start", "export.succeed"]


def test_resend_leaves_recent_job(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _unstarted_job(manager, queue, age=datetime.timedelta(minutes=50))

    assert export_resend_unstarted() == []

    job.refresh_from_db()
    assert job.state == ExportJob.State.QUEUED
    assert job.heartbeat_at is None


def test_resend_happens_once(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _unstarted_job(manager, queue, age=datetime.timedelta(hours=3), resent_age=datetime.timedelta(minutes=10))

    assert export_resend_unstarted() == []

    job.refresh_from_db()
    assert job.state == ExportJob.State.QUEUED
    assert _actions(job) == ["export.request"]


def test_sweep_fails_job_unstarted_after_resend(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _unstarted_job(manager, queue, age=datetime.timedelta(hours=3), resent_age=datetime.timedelta(hours=2))
    resent_at = job.heartbeat_at.isoformat(timespec="seconds")

    assert export_fail_stale() == [job.pk]

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.error == (
        f"No worker started the build, although its task was sent again at {resent_at}, within 3600 seconds. "
        "Check that a Celery worker consumes the exports queue, then re-run the export."
    )


def test_sweep_command_resends_unstarted_job(
    manager, queue, mixed_items, settings, capsys, django_capture_on_commit_callbacks
):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _unstarted_job(manager, queue, age=datetime.timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("fail_stale_exports")

    job.refresh_from_db()
    assert capsys.readouterr().out == f"Sent the build task again for 1 export(s) that never started: {job.pk}\n"
    assert job.state == ExportJob.State.SUCCEEDED


def test_redelivered_task_after_sweep_does_nothing(manager, queue, mixed_items, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _running_job(manager, queue, heartbeat_age=datetime.timedelta(hours=2))
    export_fail_stale()

    assert export_build(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert job.attempts == 1


def test_sweep_default_outlasts_redelivery():
    assert django_settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER == (
        django_settings.BOOKBAG_BROKER_VISIBILITY_TIMEOUT + django_settings.BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT
    )
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == (
        django_settings.BOOKBAG_BROKER_VISIBILITY_TIMEOUT
    )


def test_sweep_command_prints_failed_ids(manager, queue, settings, capsys):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    job = _running_job(manager, queue, heartbeat_age=datetime.timedelta(hours=2))

    call_command("fail_stale_exports")

    assert capsys.readouterr().out == f"Marked 1 stale export(s) failed: {job.pk}\n"
    assert AuditEvent.objects.get(object_id=str(job.pk), action="export.fail").channel == "command"


def test_sweep_command_without_stale_jobs(db, settings, capsys):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600

    call_command("fail_stale_exports")

    assert capsys.readouterr().out == "No stale exports (threshold 3600 s).\n"


def test_sweep_task_returns_count(manager, queue, settings):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 3600
    _running_job(manager, queue, heartbeat_age=datetime.timedelta(hours=2))

    assert fail_stale_exports.delay().get() == 1


def test_beat_runs_sweep_every_minute():
    from bookbag.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["fail-stale-exports"]

    assert entry["task"] == fail_stale_exports.name == "exports.fail_stale_exports"
    assert entry["schedule"] == 60.0
    assert app.conf.beat_schedule["fail-stale-exports"]["task"] == "exports.fail_stale_exports"
