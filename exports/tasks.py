"""Celery tasks of the exports app: thin wrappers around the services."""

from celery import shared_task

from bookbag.audit.context import audit_context

from .services import export_build

# The hard limit kills a build that hangs; the soft limit before it lets the
# service mark the job failed with a clear error first.
SOFT_TIME_LIMIT_SECONDS = 55 * 60
TIME_LIMIT_SECONDS = 60 * 60


@shared_task(
    name="exports.build_export",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=TIME_LIMIT_SECONDS,
)
def build_export(job_id: int) -> str | None:
    """Build the bundle of export job ``job_id``; return its state, or None when it was not queued."""
    with audit_context(channel="task"):
        job = export_build(job_id=job_id)
    return job.state if job is not None else None
