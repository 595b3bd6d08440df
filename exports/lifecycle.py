"""Services for the life of a build attempt: claim, heartbeat, takeover, retry, failure and the stale sweep.

A build attempt owns its job while the job is running and ``attempts`` still
equals the number that the attempt's claim wrote. Every write of an attempt
(heartbeat, success, failure, release for a retry) is conditional on that
pair. So an attempt that lost its job, to a takeover or to the sweep, changes
nothing and stops at its next heartbeat.

Two mechanisms finish a job whose worker died mid-build:

- Takeover applies while a build task for the job can still arrive. A task
  that finds the job running with a heartbeat older than
  ``BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT`` builds it again from scratch as the
  next attempt. The broker delivers the task again on its own: at once when a
  prefork child dies (``reject_on_worker_lost``), and after the broker's
  visibility timeout when a whole worker dies with the task unacknowledged
  (``acks_late`` on Redis). A task that finds the heartbeat still fresh sends
  itself again for the moment the heartbeat turns stale.
- The sweep applies when no task will come back: the broker lost the message,
  the process of the ``export`` command died, or a retry never ran.
  ``export_fail_stale`` (Celery beat every minute, or the
  ``fail_stale_exports`` command) fails a job whose heartbeat is older than
  ``BOOKBAG_EXPORT_STALE_FAIL_AFTER``. Its default, the visibility timeout
  plus the heartbeat timeout, gives every redelivered task the chance to take
  the job over first. A job whose first build never started gets its task
  sent once more (``export_resend_unstarted``) before the sweep may fail it.
"""

import datetime
import logging
import time

from django.conf import settings
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from bookbag.audit.services import audit_record

from .models import ExportJob, WebhookEndpoint
from .webhooks.delivery import webhook_event_emit

logger = logging.getLogger(__name__)

# Errors that a retry can cure: the database or the storage was briefly unavailable.
TRANSIENT_ERRORS = (OperationalError, OSError)
FINISHED_STATES = (ExportJob.State.SUCCEEDED, ExportJob.State.FAILED)


class JobBusy(Exception):
    """Another attempt is building the job and its heartbeat is fresh."""

    def __init__(self, job_id: int, *, retry_after: float) -> None:
        super().__init__(f"Export {job_id} is being built by another attempt; check again in {retry_after:.0f} s.")
        self.job_id = job_id
        self.retry_after = retry_after


class JobSuperseded(Exception):
    """The attempt no longer owns its job, because another attempt took it over or the sweep failed it."""

    def __init__(self, job: ExportJob) -> None:
        super().__init__(f"Attempt {job.attempts} of export {job.pk} no longer owns the job.")
        self.job_id = job.pk
        self.attempt = job.attempts


def heartbeat_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT)


def _last_seen(job: ExportJob) -> datetime.datetime:
    return job.heartbeat_at or job.started_at or job.created_at


def job_enqueue(job_id: int) -> None:
    """Send the build task; when the broker cannot take it, fail the job instead of leaving it queued."""
    from .tasks import build_export

    try:
        build_export.delay(job_id)
    except KombuOperationalError as error:
        logger.error("export.enqueue_failed", extra={"job_id": job_id, "error": str(error)})
        failed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
            state=ExportJob.State.FAILED, finished_at=timezone.now(),
            error="The task broker could not be reached, so the build never started; request the export again.",
        )
        if failed:
            job = ExportJob.objects.get(pk=job_id)
            audit_record(
                actor=None, action="export.fail", instance=job,
                before={"state": ExportJob.State.QUEUED}, after={"state": job.state, "error": job.error},
            )


@transaction.atomic
def job_claim(*, job_id: int) -> ExportJob | None:
    """Start the next build attempt of a queued or stale running job and return the job.

    Returns None for a missing or finished job, and for a stale job that has
    used up ``BOOKBAG_EXPORT_MAX_ATTEMPTS``, which is failed instead. Raises
    JobBusy when the job is running with a fresh heartbeat.
    """
    now = timezone.now()
    job = ExportJob.objects.select_related("requester").filter(pk=job_id).first()
    if job is None or job.state in FINISHED_STATES:
        return None
    stale_for = now - _last_seen(job)
    if job.state == ExportJob.State.RUNNING:
        if stale_for < heartbeat_timeout():
            raise JobBusy(job.pk, retry_after=(heartbeat_timeout() - stale_for).total_seconds())
        if job.attempts >= settings.BOOKBAG_EXPORT_MAX_ATTEMPTS:
            _fail_if(job, state=job.state, attempts=job.attempts, message=_attempts_exhausted_message(job))
            return None

    before = {
        "state": job.state, "attempts": job.attempts,
        "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
    }
    claimed = ExportJob.objects.filter(pk=job.pk, state=job.state, attempts=job.attempts).update(
        state=ExportJob.State.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, rows_done=0
    )
    if not claimed:
        # Another attempt changed the job between the read and the update, so that attempt owns the job now.
        raise JobBusy(job.pk, retry_after=heartbeat_timeout().total_seconds())
    job.refresh_from_db()

    action = "export.takeover" if before["state"] == ExportJob.State.RUNNING else "export.start"
    audit_record(
        actor=None, action=action, instance=job,
        before=before, after={"state": job.state, "attempts": job.attempts},
    )
    if action == "export.takeover":
        logger.warning(
            "export.taken_over",
            extra={"job_id": job.pk, "attempt": job.attempts, "stale_seconds": int(stale_for.total_seconds())},
        )
    return job


def job_heartbeat(job: ExportJob, *, rows_done: int | None = None) -> None:
    """Record that the attempt is alive, with its progress when given.

    Raises JobSuperseded when the attempt no longer owns the job. Sleeps for
    ``BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS`` afterwards, which only tests set.
    """
    changes: dict = {"heartbeat_at": timezone.now()}
    if rows_done is not None:
        changes = {"rows_done": rows_done, **changes}
    updated = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING, attempts=job.attempts).update(
        **changes
    )
    if not updated:
        raise JobSuperseded(job)
    if rows_done is not None:
        job.rows_done = rows_done
    if settings.BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS:
        time.sleep(settings.BOOKBAG_EXPORT_CHUNK_DELAY_SECONDS)


def job_interrupt(job: ExportJob, *, message: str, will_retry: bool) -> None:
    """Queue the job again for a retry after a transient error, or fail it when no retry will come.

    Logs instead of raising when the database cannot record it, because the
    caller re-raises the original error. A job that stays running then is
    taken over by the retry once its heartbeat is stale.
    """
    try:
        if will_retry:
            _release(job, message=message)
        else:
            _fail_if(job, state=ExportJob.State.RUNNING, attempts=job.attempts,
                     message=f"{message} (attempt {job.attempts}; no retries left)")
    except DatabaseError as error:
        logger.error("export.interrupt_not_recorded", extra={"job_id": job.pk, "error": str(error)})


@transaction.atomic
def _release(job: ExportJob, *, message: str) -> None:
    error = f"Attempt {job.attempts} failed and will be retried: {message}"
    updated = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.RUNNING, attempts=job.attempts).update(
        state=ExportJob.State.QUEUED, heartbeat_at=timezone.now(), error=error
    )
    if not updated:
        return
    audit_record(
        actor=None, action="export.retry", instance=job,
        before={"state": ExportJob.State.RUNNING, "attempts": job.attempts},
        after={"state": ExportJob.State.QUEUED, "error": error},
    )
    logger.warning("export.build_released", extra={"job_id": job.pk, "attempt": job.attempts, "error": message})


def job_fail(job: ExportJob, *, message: str) -> bool:
    """Fail the job with ``message`` if this attempt still owns it; return whether it did."""
    return _fail_if(job, state=ExportJob.State.RUNNING, attempts=job.attempts, message=message)


@transaction.atomic
def _fail_if(job: ExportJob, *, state: str, attempts: int, message: str) -> bool:
    """Fail the job if it is still in ``state`` at ``attempts``, record it and notify webhooks."""
    updated = ExportJob.objects.filter(pk=job.pk, state=state, attempts=attempts).update(
        state=ExportJob.State.FAILED, error=message, finished_at=timezone.now()
    )
    if not updated:
        return False
    job.refresh_from_db()
    audit_record(
        actor=None, action="export.fail", instance=job,
        before={"state": state, "attempts": attempts}, after={"state": job.state, "error": message},
    )
    webhook_event_emit(job=job, event=WebhookEndpoint.Event.EXPORT_FAILED)
    return True


def _attempts_exhausted_message(job: ExportJob) -> str:
    return (
        f"Build attempt {job.attempts} stopped sending heartbeats (the last at "
        f"{_last_seen(job).isoformat(timespec='seconds')}), and {job.attempts} attempts is the limit set by "
        "BOOKBAG_EXPORT_MAX_ATTEMPTS, so the build was not started again. Check the worker logs for why the "
        "builds stopped (for example, memory), then re-run the export."
    )


def export_fail_stale(*, now: datetime.datetime | None = None) -> list[int]:
    """Fail every job whose build stopped with no task coming back for it, and return their ids.

    These are running jobs, jobs queued again for a retry, and jobs whose
    build task ``export_resend_unstarted`` sent again, when their last
    heartbeat (or the time of sending) is older than
    ``BOOKBAG_EXPORT_STALE_FAIL_AFTER`` seconds. Each job is failed in its
    own transaction.
    """
    now = now or timezone.now()
    fail_after = settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER
    candidates = (
        ExportJob.objects.filter(
            Q(state=ExportJob.State.RUNNING)
            | Q(state=ExportJob.State.QUEUED, attempts__gt=0)
            | Q(state=ExportJob.State.QUEUED, attempts=0, heartbeat_at__isnull=False)
        )
        .annotate(last_seen=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_seen__lt=now - datetime.timedelta(seconds=fail_after))
        .select_related("requester")
        .order_by("id")
    )
    failed = []
    for job in candidates:
        if _fail_if(job, state=job.state, attempts=job.attempts, message=_stale_message(job, fail_after)):
            failed.append(job.pk)
    if failed:
        logger.warning("export.stale_failed", extra={"job_ids": failed, "count": len(failed)})
    return failed


def _stale_message(job: ExportJob, fail_after: int) -> str:
    last_seen = _last_seen(job).isoformat(timespec="seconds")
    if job.state == ExportJob.State.QUEUED and job.attempts == 0:
        return (
            f"No worker started the build, although its task was sent again at {last_seen}, within {fail_after} "
            "seconds. Check that a Celery worker consumes the exports queue, then re-run the export."
        )
    if job.state == ExportJob.State.QUEUED:
        return (
            f"Attempt {job.attempts} failed with a temporary error at {last_seen}, and its retry did not start "
            f"within {fail_after} seconds. Re-run the export."
        )
    return (
        f"Build attempt {job.attempts} stopped sending heartbeats at {last_seen}, and no worker took the job "
        f"over within {fail_after} seconds. Re-run the export."
    )


def export_resend_unstarted(*, now: datetime.datetime | None = None) -> list[int]:
    """Send the build task again for each job that never started, and return their ids.

    A job still queued with no attempt ``BOOKBAG_EXPORT_STALE_FAIL_AFTER``
    seconds after its request may have lost its task in the broker, or may
    wait behind other builds. The task is safe to run twice, so sending it
    again costs a busy worker nothing. Each job is sent again once: the time
    of sending goes in ``heartbeat_at``, and ``export_fail_stale`` fails the
    job if it is still queued that long after it.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER)
    unstarted = ExportJob.objects.filter(
        state=ExportJob.State.QUEUED, attempts=0, heartbeat_at__isnull=True, created_at__lt=cutoff,
    ).order_by("id")
    resent = [job.pk for job in unstarted if _resend(job, now=now)]
    if resent:
        logger.warning("export.resent", extra={"job_ids": resent, "count": len(resent)})
    return resent


@transaction.atomic
def _resend(job: ExportJob, *, now: datetime.datetime) -> bool:
    marked = ExportJob.objects.filter(pk=job.pk, state=ExportJob.State.QUEUED, attempts=0, heartbeat_at__isnull=True)
    if not marked.update(heartbeat_at=now):
        return False
    audit_record(actor=None, action="export.resend", instance=job, after={"resent_at": now.isoformat()})
    transaction.on_commit(lambda: job_enqueue(job.pk))
    return True
