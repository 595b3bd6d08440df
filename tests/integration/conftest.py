"""Fixtures for integration tests: Redis as the broker, real ``celery worker`` processes, and bulk reviewed items.

``BOOKBAG_TEST_REDIS_URL`` names the Redis database the tests use; it is
emptied before and after each test, so point it at a database nothing else uses.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from bookbag.celery import app
from exports.models import ExportJob
from reviews.models import Review, ReviewItem
from tests.conftest import skip_or_fail
from tests.factories import ReviewItemFactory

REDIS_URL = os.environ.get("BOOKBAG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
STOP_TIMEOUT_SECONDS = 20
LOG_TAIL_CHARACTERS = 4000


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
    """Send tasks through Redis at ``REDIS_URL`` (emptied first) instead of running them in-process."""
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


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]

    def children(self) -> list[int]:
        """Return the process ids of the worker's pool processes (Linux only)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


@pytest.fixture
def start_worker(broker, media_root, tmp_path):
    """Return a function that starts ``celery worker`` on the test database; every worker stops after the test.

    ``environment`` adds variables such as ``BOOKBAG_TEST_CHUNK_DELAY_SECONDS``.
    """
    workers: list[Worker] = []

    def start(*, pool: str = "solo", concurrency: int = 1, environment: dict[str, str] | None = None) -> Worker:
        log_path = tmp_path / f"worker-{len(workers) + 1}.log"
        variables = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "BOOKBAG_MEDIA_ROOT": str(media_root),
            "BOOKBAG_DATA_DIR": str(tmp_path / "worker-data"),
            **(environment or {}),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "bookbag", "worker", "-Q", "exports,default", f"--pool={pool}",
            f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"export-test-{os.getpid()}-{len(workers) + 1}@%h",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=django_settings.BASE_DIR, env=variables, stdout=log, stderr=subprocess.STDOUT
            )
        workers.append(Worker(process, log_path))
        return workers[-1]

    yield start
    for worker in workers:
        _stop(worker.process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()


def wait_for(condition, *, timeout: float, workers: list[Worker], description: str):
    """Poll ``condition`` until it returns a true value and return that, or fail with the workers' output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    logs = "\n".join(f"--- worker {number} ---\n{worker.log_tail()}" for number, worker in enumerate(workers, 1))
    pytest.fail(f"Timed out after {timeout} s waiting for {description}.\n{logs}")


def job_state(job_id: int) -> ExportJob:
    return ExportJob.objects.get(pk=job_id)


def reviewed_items(*, queue, reviewer, count: int) -> list[ReviewItem]:
    """Create ``count`` approved items with distinct replies in bulk, because building them one by one through the services is slow."""
    items = ReviewItem.objects.bulk_create(
        ReviewItemFactory.build(
            queue=queue, state=ReviewItem.State.REVIEWED,
            response={"role": "assistant", "content": f"Check the coax cable, step {number}."},
        )
        for number in range(count)
    )
    now = timezone.now()
    reviews = Review.objects.bulk_create(
        Review(item=item, reviewer=reviewer, rubric=queue.rubric, verdict=Review.Verdict.APPROVED, submitted_at=now)
        for item in items
    )
    for item, review in zip(items, reviews, strict=True):
        item.final_review = review
    ReviewItem.objects.bulk_update(items, ["final_review"])
    return items
