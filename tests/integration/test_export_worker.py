"""An export requested over the API is built by a real Celery worker through Redis."""

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient

from bookbag.celery import app
from tests.conftest import skip_or_fail
from tests.exports.conftest import mixed_items, make_reviewed  # noqa: F401 (fixtures used below)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/15"
BUILD_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 20


def _database_url() -> str:
    database = connection.settings_dict
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    host = database["HOST"] or "127.0.0.1"
    port = database["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Keep the bundle that the worker stores, and that the download reads, under the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def broker():
    """Send tasks through Redis database 15 (emptied first) instead of running them in-process."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        skip_or_fail(f"needs Redis at {REDIS_URL}: {error}")
    client.flushdb()

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    _drop_connection_pools()
    yield client
    app.conf.update(saved)
    _drop_connection_pools()
    client.flushdb()


def _drop_connection_pools() -> None:
    # NOTE: Celery caches its broker pools on first use, also in eager mode, and offers no
    # public reset, so the private attributes are cleared to make the new broker URL apply.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker, media_root, tmp_path):
    """Start ``celery worker`` on the test database, yield it with its log path, and stop it after the test."""
    log_path = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bookbag.settings.local",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "BOOKBAG_MEDIA_ROOT": str(media_root),
        "BOOKBAG_DATA_DIR": str(tmp_path / "worker-data"),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "bookbag", "worker", "-Q", "exports,default", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname", f"export-test-{os.getpid()}@%h",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=django_settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _log_tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-4000:]


def _wait_for_job(client: APIClient, job_id: int, worker) -> dict:
    process, log_path = worker
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/exports/{job_id}/").json()
        if body["state"] == "succeeded":
            return body
        if body["state"] == "failed":
            pytest.fail(f"Export {job_id} failed: {body['error']}\nWorker output:\n{_log_tail(log_path)}")
        if process.poll() is not None:
            pytest.fail(f"The worker exited with code {process.returncode}.\nWorker output:\n{_log_tail(log_path)}")
        time.sleep(0.5)
    pytest.fail(
        f"Export {job_id} was still {body['state']} after {BUILD_TIMEOUT_SECONDS} s.\n"
        f"Worker output:\n{_log_tail(log_path)}"
    )


def test_worker_builds_requested_export(manager, queue, mixed_items, worker):  # noqa: F811
    client = APIClient()
    client.force_authenticate(manager)

    response = client.post(
        "/api/v1/exports/", {"kind": "both", "format": "trl", "filters": {"queues": [queue.slug]}}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["state"] == "queued"

    status = _wait_for_job(client, response.json()["id"], worker)
    download = client.get(f"/api/v1/exports/{status['id']}/download/")

    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == status["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["counts"]["rows"] == {"sft": 3, "dpo": 2}
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
