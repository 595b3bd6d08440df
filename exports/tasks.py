"""Celery tasks of the exports app: thin wrappers around the services.

Builds and webhook deliveries retry transient failures with exponential
backoff. Each retry waits ``base × 2^retries`` seconds, capped, plus up to 10 %
random jitter, so that jobs failed by one outage do not all retry at the same
moment.
"""

import logging
import math
import random

from celery import shared_task

from bookbag.audit.context import audit_context
from bookbag.audit.models import AuditEvent

from .lifecycle import TRANSIENT_ERRORS, JobBusy, export_fail_stale, export_resend_unstarted
from .models import ExportJob
from .services import export_build
from .webhooks.delivery import delivery_is_retryable, webhook_deliver

logger = logging.getLogger(__name__)

# The hard limit kills a build that hangs; the soft limit before it lets the
# service mark the job failed with a clear error first.
SOFT_TIME_LIMIT_SECONDS = 55 * 60
TIME_LIMIT_SECONDS = 60 * 60
BUILD_MAX_RETRIES = 3
BUILD_RETRY_BASE_SECONDS = 15
BUILD_RETRY_MAX_SECONDS = 10 * 60

WEBHOOK_MAX_RETRIES = 5
WEBHOOK_RETRY_BASE_SECONDS = 30
WEBHOOK_RETRY_MAX_SECONDS = 60 * 60
WEBHOOK_TIME_LIMIT_SECONDS = 60
JITTER_FRACTION = 0.1


def backoff_seconds(retries: int, *, base: int, maximum: int) -> int:
    """Return the delay before the retry that follows ``retries`` earlier retries."""
    delay = min(maximum, base * 2**retries)
    return math.ceil(delay * (1 + random.uniform(0, JITTER_FRACTION)))


@shared_task(
    bind=True,
    name="exports.build_export",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=TIME_LIMIT_SECONDS,
    max_retries=BUILD_MAX_RETRIES,
)
def build_export(self, job_id: int) -> str | None:
    """Build the bundle of export job ``job_id``; return its state, or None when nothing was built.

    A job that another attempt is building is checked again once its
    heartbeat would be stale, and "deferred" is returned.
    """
    will_retry = self.request.retries < self.max_retries
    with audit_context(channel="task", **_job_origin(job_id)):
        try:
            job = export_build(job_id=job_id, will_retry=will_retry)
        except JobBusy as busy:
            return _build_check_later(self, job_id, busy)
        except TRANSIENT_ERRORS as error:
            if not will_retry:
                raise
            countdown = backoff_seconds(self.request.retries, base=BUILD_RETRY_BASE_SECONDS,
                                        maximum=BUILD_RETRY_MAX_SECONDS)
            logger.warning(
                "export.build_retry_scheduled",
                extra={"job_id": job_id, "retry": self.request.retries + 1, "countdown": countdown,
                       "error": str(error)},
            )
            raise self.retry(exc=error, countdown=countdown) from error
    return job.state if job is not None else None


def _job_origin(job_id: int) -> dict:
    """Return the requester and request id of the export request, which the build's audit events name."""
    requester_id = ExportJob.objects.filter(pk=job_id).values_list("requester_id", flat=True).first()
    request_id = (
        AuditEvent.objects.filter(action="export.request", object_type="exports.exportjob", object_id=str(job_id))
        .values_list("request_id", flat=True).first()
    )
    return {"initiator_id": requester_id, "request_id": request_id or ""}


def _build_check_later(task, job_id: int, busy: JobBusy) -> str | None:
    if task.request.is_eager:
        # In-process tasks have no broker to send a delayed task through; the sweep covers the job.
        logger.info("export.build_busy", extra={"job_id": job_id})
        return None
    countdown = math.ceil(busy.retry_after) + 1
    build_export.apply_async((job_id,), countdown=countdown)
    logger.info("export.build_deferred", extra={"job_id": job_id, "countdown": countdown})
    return "deferred"


@shared_task(name="exports.fail_stale_exports")
def fail_stale_exports() -> int:
    """Resend the build task of jobs that never started and fail stopped builds, then return how many failed."""
    with audit_context(channel="task"):
        export_resend_unstarted()
        return len(export_fail_stale())


@shared_task(
    bind=True,
    name="exports.deliver_webhook",
    queue="default",
    acks_late=True,
    max_retries=WEBHOOK_MAX_RETRIES,
    soft_time_limit=WEBHOOK_TIME_LIMIT_SECONDS,
    time_limit=WEBHOOK_TIME_LIMIT_SECONDS + 10,
)
def deliver_webhook(self, endpoint_id: int, event_id: str, event: str, payload: dict) -> str | None:
    """Send one attempt of a webhook event; return "succeeded" or "failed", or None when the endpoint is gone.

    Network errors, 5xx and 429 responses are retried with backoff.
    """
    delivery = webhook_deliver(
        endpoint_id=endpoint_id, event_id=event_id, event=event, payload=payload, attempt=self.request.retries + 1
    )
    if delivery is None:
        return None
    if delivery.succeeded:
        return "succeeded"
    if delivery_is_retryable(delivery) and self.request.retries < self.max_retries:
        countdown = backoff_seconds(self.request.retries, base=WEBHOOK_RETRY_BASE_SECONDS,
                                    maximum=WEBHOOK_RETRY_MAX_SECONDS)
        raise self.retry(countdown=countdown)
    return "failed"
