"""Requesting, building and downloading export bundles.

``export_request`` records a job and enqueues its build once the transaction
commits; it neither counts nor reads the selected items, so a request returns
at once whatever the export's size. ``export_build`` runs in a worker (or
in-process for the ``export`` command): it claims the job, streams the
selected reviews into a bundle in a temporary directory, and moves the
finished zip into storage. A build is not one transaction, because progress
must be visible while it runs. The claim, each heartbeat and the final state
change are each their own transaction. ``exports.lifecycle`` describes how
attempts, takeovers, retries and the stale sweep fit together.
"""

import logging
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import BookbagError, Conflict, NotFound, PermissionDenied, ValidationErrors
from reviews.access import is_manager

from .bundle import BuiltBundle, BundleWriter
from .examples import InvalidExample, example_from_record
from .filters import ExportFilters, filters_clean
from .formats import format_get, kinds_resolve
from .manifest import code_version
from .lifecycle import (
    TRANSIENT_ERRORS, JobSuperseded, job_claim, job_enqueue, job_fail, job_heartbeat, job_interrupt,
)
from .models import ExportJob, WebhookEndpoint
from .options import ExportOptions, options_clean
from .records import ExportRecord, export_record_iter
from .selectors import export_item_list, export_job_list
from .webhooks.delivery import webhook_event_emit

logger = logging.getLogger(__name__)

JOB_FIELDS = ("requester", "kind", "format", "filters", "options", "idempotency_key", "state", "rerun_of")
CHUNK_SIZE = 500
# Expected failures: the job's own filters or data no longer work. Anything else is a bug and is re-raised.
EXPECTED_ERRORS = (BookbagError, ValidationError)


def _not_manager_message(user) -> str:
    username = user.get_username()
    return (
        f"User {username!r} is not a manager, so they cannot request exports; ask a manager to export, "
        f"or an admin to give {username!r} the manage_workspace permission."
    )


def export_request(
    *,
    requester,
    kind: str,
    format: str,
    filters: dict[str, Any] | None,
    options: dict[str, Any] | None = None,
    idempotency_key: str = "",
    enqueue: bool = True,
    rerun_of: ExportJob | None = None,
) -> ExportJob:
    """Record an export job for ``requester`` and enqueue its build after commit.

    A key that ``requester`` already used returns that job, unless the new
    request differs, which raises Conflict. ``enqueue=False`` leaves the build
    to the caller (the ``export`` command runs it in-process). ``rerun_of``
    links the job to the earlier job whose parameters it repeats. ``options``
    (``validation_ratio``, ``redact_pii``, ``tool_arguments``) shape the files.
    Raises PermissionDenied for non-managers, NotFound for a queue slug or
    ``since_export`` job outside the requester's reach, and ValidationError
    for any other invalid value.
    """
    if not is_manager(requester):
        raise PermissionDenied(_not_manager_message(requester))
    format_get(format)
    errors = ValidationErrors()
    cleaned_options = errors.check(options_clean, kind=kind, format=format, raw=options)
    cleaned, queues = errors.check(filters_clean, requester=requester, raw=filters, default=(None, None))
    errors.raise_any()

    if idempotency_key:
        existing = _job_for_key(requester, idempotency_key, kind=kind, format=format, filters=cleaned,
                                options=cleaned_options)
        if existing is not None:
            return existing
    try:
        job = _job_create(requester, kind=kind, format=format, filters=cleaned, options=cleaned_options,
                          queues=queues, idempotency_key=idempotency_key, enqueue=enqueue, rerun_of=rerun_of)
    except IntegrityError:
        # A concurrent request with the same key won the insert; return its job.
        existing = _job_for_key(requester, idempotency_key, kind=kind, format=format, filters=cleaned,
                                options=cleaned_options)
        if existing is None:
            raise
        return existing
    return job


def _job_for_key(requester, key: str, *, kind: str, format: str, filters: ExportFilters,
                 options: ExportOptions) -> ExportJob | None:
    job = ExportJob.objects.filter(requester=requester, idempotency_key=key).first()
    if job is None:
        return None
    if (job.kind, job.format, job.filters, job.options) != (kind, format, filters.as_json(), options.as_json()):
        raise Conflict(
            f"Idempotency key {key!r} was already used for export {job.pk} with other parameters; "
            "use a new key for a different export.",
            code="idempotency_key_reused",
        )
    return job


@transaction.atomic
def _job_create(requester, *, kind: str, format: str, filters: ExportFilters, options: ExportOptions,
                queues: list, idempotency_key: str, enqueue: bool, rerun_of: ExportJob | None) -> ExportJob:
    job = ExportJob(
        requester=requester, kind=kind, format=format, filters=filters.as_json(), options=options.as_json(),
        idempotency_key=idempotency_key, rerun_of=rerun_of,
    )
    # The database checks the idempotency key: a concurrent request that took it first
    # makes save() raise IntegrityError, which export_request turns into that request's job.
    job.full_clean(validate_constraints=False)
    job.save()
    job.queues.set(queues)
    audit_record(actor=requester, action="export.request", instance=job, after=snapshot(job, JOB_FIELDS))

    if enqueue:
        transaction.on_commit(lambda: job_enqueue(job.pk))
    logger.info("export.requested", extra={"job_id": job.pk, "requester_id": requester.pk})
    return job


def export_build(*, job_id: int, will_retry: bool = False) -> ExportJob | None:
    """Build the bundle of a queued or stale job and store it; return the job, or None when nothing was built.

    None means the job is missing or finished (a redelivered or repeated task
    does nothing), has used up its attempts, or was lost mid-build to a
    takeover or the stale sweep. Raises JobBusy while another attempt builds it.
    Our own errors and ValidationError fail the job, which is returned. A
    transient error (database OperationalError, storage OSError) queues the job
    again when ``will_retry`` and fails it otherwise, and is re-raised either
    way. Other errors fail the job and are re-raised.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        logger.info("export.build_skipped", extra={"job_id": job_id})
        return None
    logger.info("export.build_started", extra={"job_id": job.pk, "attempt": job.attempts})

    try:
        with tempfile.TemporaryDirectory(prefix="bookbag-export-") as directory:
            built = _bundle_build(job, Path(directory))
            _job_succeed(job, built)
    except JobSuperseded:
        logger.warning("export.build_superseded", extra={"job_id": job.pk, "attempt": job.attempts})
        return None
    except EXPECTED_ERRORS as error:
        _job_fail(job, error)
        return job
    except TRANSIENT_ERRORS as error:
        job_interrupt(job, message=_error_message(error), will_retry=will_retry)
        raise
    except Exception as error:
        _job_fail(job, error)
        raise
    logger.info("export.build_succeeded", extra={"job_id": job.pk, "rows": job.counts.get("rows")})
    return job


def _bundle_build(job: ExportJob, directory: Path) -> BuiltBundle:
    """Stream the job's reviewed items into a bundle in ``directory``, recording progress per chunk."""
    filters = ExportFilters.from_json(job.filters)
    items = export_item_list(filters=filters)
    total = items.count()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total, rows_done=0)
    job.rows_total = total

    writer = BundleWriter(
        directory=directory, export_format=format_get(job.format),
        kinds=kinds_resolve(kind=job.kind, format=job.format),
        options=ExportOptions.from_json(job.options, format=job.format),
    )
    try:
        done = 0
        for record in export_record_iter(items, chunk_size=CHUNK_SIZE):
            _record_add(writer, record)
            done += 1
            if done % CHUNK_SIZE == 0:
                job_heartbeat(job, rows_done=done)
        job.rows_done = done
        job_heartbeat(job)
        return writer.finish(header=_manifest_header(job, filters))
    finally:
        writer.close()


def _record_add(writer: BundleWriter, record: ExportRecord) -> None:
    try:
        writer.add(example_from_record(record))
    except InvalidExample as error:
        rubric_version = f"{record.rubric_slug}@{record.rubric_version}"
        writer.skip(item_id=record.item_id, verdict=record.verdict, rubric_version=rubric_version, reason=str(error))
        logger.warning("export.item_skipped", extra={"item_id": record.item_id, "reason": str(error)})


def _manifest_header(job: ExportJob, filters: ExportFilters) -> dict[str, Any]:
    """Return the manifest's job fields. Only ``bundle_id`` and ``created_at`` differ between two builds."""
    return {
        "bundle_id": f"bookbag-export-{job.pk}",
        "created_at": timezone.now().isoformat(),
        "kind": job.kind,
        "format": job.format,
        "filters": filters.as_json(),
        "parent_bundle": _parent_bundle(filters.since_export),
        "code_version": code_version(),
    }


def _parent_bundle(job_id: int | None) -> dict[str, Any] | None:
    parent = ExportJob.objects.filter(pk=job_id).values("pk", "sha256").first() if job_id else None
    if parent is None:
        return None
    return {"bundle_id": f"bookbag-export-{parent['pk']}", "job_id": parent["pk"], "sha256": parent["sha256"]}


class _MovableFile(File):
    """A finished zip that file-system storage can move into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _job_succeed(job: ExportJob, built: BuiltBundle) -> None:
    """Move the zip into storage and mark the job succeeded, unless the attempt lost the job.

    The row stays locked from the ownership check to the commit, so of two
    attempts only one can store a bundle. A bundle stored by a transaction
    that then fails is deleted again.
    """
    try:
        with transaction.atomic():
            _job_succeed_locked(job, built)
    except BaseException:
        if job.bundle.name:
            job.bundle.storage.delete(job.bundle.name)
        raise


def _job_succeed_locked(job: ExportJob, built: BuiltBundle) -> None:
    owned = ExportJob.objects.select_for_update().filter(
        pk=job.pk, state=ExportJob.State.RUNNING, attempts=job.attempts
    ).values_list("pk", flat=True)
    if not list(owned):
        raise JobSuperseded(job)
    file_name = f"bundle-{job.pk}.zip"
    storage_name = job.bundle.field.generate_filename(job, file_name)
    # A file under the job's name can only be left by an earlier attempt that stopped before committing.
    # NOTE: when no later attempt succeeds, such a file stays in storage without a job pointing at it.
    if job.bundle.storage.exists(storage_name):
        job.bundle.storage.delete(storage_name)
    with built.path.open("rb") as handle:
        job.bundle.save(file_name, _MovableFile(handle), save=False)

    job.sha256 = built.sha256
    job.manifest = built.manifest
    job.counts = built.manifest["counts"]
    job.state = ExportJob.State.SUCCEEDED
    job.finished_at = job.heartbeat_at = timezone.now()
    job.error = ""
    job.full_clean()
    job.save()
    audit_record(
        actor=None, action="export.succeed", instance=job,
        before={"state": ExportJob.State.RUNNING, "attempts": job.attempts},
        after={"state": job.state, "bundle": job.bundle.name, "sha256": job.sha256, "counts": job.counts},
    )
    webhook_event_emit(job=job, event=WebhookEndpoint.Event.EXPORT_SUCCEEDED)


def _error_message(error: Exception) -> str:
    if isinstance(error, BookbagError):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"Unexpected error while building the bundle: {type(error).__name__}: {error}"


def _job_fail(job: ExportJob, error: Exception) -> None:
    message = _error_message(error)
    if job_fail(job, message=message):
        logger.error("export.build_failed", extra={"job_id": job.pk, "error": message}, exc_info=error)


@transaction.atomic
def export_download(*, job_id: int, actor) -> ExportJob:
    """Return ``actor``'s succeeded job for download and record the download.

    Raises NotFound for another user's job and Conflict before the job has succeeded.
    """
    job = export_job_list(requester=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"Export {job_id} not found among your exports.")
    if job.state == ExportJob.State.FAILED:
        raise Conflict(f"Export {job.pk} failed, so it has no bundle: {job.error}", code="export_failed")
    if job.state != ExportJob.State.SUCCEEDED:
        raise Conflict(
            f"Export {job.pk} is {job.state}; download it once its state is succeeded.", code="export_not_ready"
        )
    audit_record(
        actor=actor, action="export.download", instance=job, after={"bundle": job.bundle.name, "sha256": job.sha256}
    )
    return job



def export_rerun(*, actor, job_id: int) -> ExportJob:
    """Request a new export with the kind, format and filters of ``actor``'s job ``job_id``.

    The filters are checked again, so a queue that ``actor`` no longer manages
    raises NotFound. Raises PermissionDenied for non-managers and NotFound for
    a job that is not ``actor``'s.
    """
    if not is_manager(actor):
        raise PermissionDenied(_not_manager_message(actor))
    source = export_job_list(requester=actor).filter(pk=job_id).first()
    if source is None:
        raise NotFound(f"Export {job_id} not found among your exports.")
    return export_request(
        requester=actor, kind=source.kind, format=source.format, filters=source.filters, options=source.options,
        rerun_of=source,
    )
