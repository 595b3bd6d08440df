"""Export builds survive a killed worker and a task delivered twice, with real workers, Redis and PostgreSQL.

Each worker sleeps after every chunk of 500 rows, so a test can stop it
mid-build, and treats a heartbeat older than two seconds as stale.
"""

import hashlib
import io
import json
import os
import signal
import time
import zipfile

import pytest
from rest_framework.test import APIClient

from bookbag.audit.models import AuditEvent
from exports.services import CHUNK_SIZE
from exports.tasks import build_export
from tests.integration.conftest import job_state, reviewed_items, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 2 * CHUNK_SIZE + 200
CRASH_ENVIRONMENT = {
    "BOOKBAG_TEST_CHUNK_DELAY_SECONDS": "1.5",
    "BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT": "2",
    # Redis hands the task of a killed worker to the next worker after 3 s instead of an hour.
    "BOOKBAG_BROKER_VISIBILITY_TIMEOUT": "3",
}
TIMEOUT_SECONDS = 120
# Generous for a request that only validates, inserts a row and sends one message.
REQUEST_SECONDS = 1.0


def _client(manager) -> APIClient:
    client = APIClient()
    client.force_authenticate(manager)
    return client


def _request_export(client, queue) -> int:
    # The first request of a process imports the API modules; a running server has done that long before.
    client.get("/api/v1/exports/")
    started = time.monotonic()
    response = client.post("/api/v1/exports/", {"kind": "sft", "format": "trl", "filters": {"queues": [queue.slug]}},
                           format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 202
    assert response.json()["state"] == "queued"
    assert elapsed < REQUEST_SECONDS, f"POST /api/v1/exports/ took {elapsed:.2f} s"
    return response.json()["id"]


def _wait_mid_build(job_id: int, workers) -> None:
    def first_chunk_done() -> bool:
        job = job_state(job_id)
        return job.state == "running" and job.rows_done >= CHUNK_SIZE

    wait_for(first_chunk_done, timeout=TIMEOUT_SECONDS, workers=workers,
             description=f"export {job_id} to finish its first chunk")


def _wait_finished(job_id: int, workers):
    def finished_job():
        job = job_state(job_id)
        return job if job.state in ("succeeded", "failed") else None

    job = wait_for(finished_job, timeout=TIMEOUT_SECONDS, workers=workers, description=f"export {job_id} to finish")
    assert job.state == "succeeded", job.error
    return job


def _check_bundle(client, job, media_root) -> None:
    """Check that storage contains exactly one bundle, that it is complete, and that its hashes match."""
    assert sorted(path.name for path in (media_root / "exports").iterdir()) == [f"bundle-{job.pk}.zip"]
    download = client.get(f"/api/v1/exports/{job.pk}/download/")
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == job.sha256
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["counts"]["rows"] == {"sft": ROWS}
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert len(archive.read("sft.jsonl").splitlines()) == ROWS


def _actions(job_id: int) -> list[str]:
    events = AuditEvent.objects.filter(object_type="exports.exportjob", object_id=str(job_id)).order_by("id")
    return list(events.values_list("action", flat=True))


def test_killed_worker_job_rebuilt(manager, queue, reviewer, start_worker, media_root):
    reviewed_items(queue=queue, reviewer=reviewer, count=ROWS)
    client = _client(manager)
    first = start_worker(environment=CRASH_ENVIRONMENT)

    job_id = _request_export(client, queue)
    _wait_mid_build(job_id, [first])
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)

    stopped = job_state(job_id)
    assert (stopped.state, stopped.attempts) == ("running", 1)
    assert not (media_root / "exports").exists()

    second = start_worker(environment=CRASH_ENVIRONMENT)
    job = _wait_finished(job_id, [first, second])

    assert job.attempts == 2
    assert (job.rows_done, job.rows_total) == (ROWS, ROWS)
    assert _actions(job_id) == ["export.request", "export.start", "export.takeover", "export.succeed"]
    _check_bundle(client, job, media_root)


def test_killed_pool_process_job_rebuilt(manager, queue, reviewer, start_worker, media_root):
    reviewed_items(queue=queue, reviewer=reviewer, count=ROWS)
    client = _client(manager)
    worker = start_worker(pool="prefork", concurrency=1, environment=CRASH_ENVIRONMENT)

    job_id = _request_export(client, queue)
    _wait_mid_build(job_id, [worker])
    # The worker itself stays up, so reject_on_worker_lost puts the task straight back on the queue.
    for child in worker.children():
        os.kill(child, signal.SIGKILL)
    job = _wait_finished(job_id, [worker])

    assert job.attempts == 2
    assert "export.takeover" in _actions(job_id)
    assert "WorkerLostError" in worker.log_path.read_text(errors="replace")
    _check_bundle(client, job, media_root)


def test_task_sent_twice_builds_one_bundle(manager, queue, reviewer, start_worker, media_root):
    reviewed_items(queue=queue, reviewer=reviewer, count=ROWS)
    client = _client(manager)
    worker = start_worker(pool="prefork", concurrency=2, environment={
        "BOOKBAG_TEST_CHUNK_DELAY_SECONDS": "0.5", "BOOKBAG_EXPORT_HEARTBEAT_TIMEOUT": "2",
    })

    job_id = _request_export(client, queue)
    build_export.delay(job_id)
    job = _wait_finished(job_id, [worker])
    # The second delivery found the job running and checks again once the heartbeat would be stale.
    wait_for(lambda: "succeeded in" in worker.log_path.read_text() and ": None" in worker.log_path.read_text(),
             timeout=TIMEOUT_SECONDS, workers=[worker], description="the second delivery to finish without building")

    assert job.attempts == 1
    assert _actions(job_id) == ["export.request", "export.start", "export.succeed"]
    _check_bundle(client, job, media_root)
