"""An export requested over the API is built by a real Celery worker through Redis."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exports.lifecycle import export_resend_unstarted
from exports.models import ExportJob
from exports.services import export_request

from tests.exports.conftest import make_reviewed, mixed_items  # noqa: F401 (fixtures used below)
from tests.integration.conftest import job_state, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUILD_TIMEOUT_SECONDS = 90


def test_worker_builds_requested_export(manager, queue, mixed_items, start_worker):  # noqa: F811
    worker = start_worker()
    client = APIClient()
    client.force_authenticate(manager)

    response = client.post(
        "/api/v1/exports/", {"kind": "both", "format": "trl", "filters": {"queues": [queue.slug]}}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["state"] == "queued"

    job_id = response.json()["id"]
    wait_for(lambda: job_state(job_id).state in ("succeeded", "failed"), timeout=BUILD_TIMEOUT_SECONDS,
             workers=[worker], description=f"export {job_id} to finish")
    status = client.get(f"/api/v1/exports/{job_id}/").json()
    assert status["state"] == "succeeded", status["error"]
    download = client.get(f"/api/v1/exports/{job_id}/download/")

    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == status["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["counts"]["rows"] == {"sft": 3, "dpo": 2}
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]


def test_worker_builds_export_whose_task_was_lost(manager, queue, mixed_items, start_worker, settings):  # noqa: F811
    worker = start_worker()
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 60
    # Without enqueue no task is sent, as if the broker had lost the first message.
    job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]}, enqueue=False)
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))

    resent = export_resend_unstarted()

    assert resent == [job.pk]
    wait_for(lambda: job_state(job.pk).state in ("succeeded", "failed"), timeout=BUILD_TIMEOUT_SECONDS,
             workers=[worker], description=f"export {job.pk} to finish")
    finished = job_state(job.pk)
    assert finished.state == "succeeded", finished.error
    assert finished.attempts == 1
