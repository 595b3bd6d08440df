import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from exports.models import ExportJob
from reviews.models import Review
from tests.exports.task_fixtures import published  # noqa: F401 (fixture used below)

pytestmark = pytest.mark.django_db

EXPORTS_URL = "/api/v1/exports/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _post_counting_queries(client, capture, payload) -> tuple:
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        response = client.post(EXPORTS_URL, payload, format="json")
    return response, [query["sql"] for query in queries.captured_queries]


def test_create_neither_counts_nor_builds(manager, queue, make_reviewed, published,
                                          django_capture_on_commit_callbacks):
    client = _client(manager)
    payload = {"filters": {"queues": [queue.slug]}}
    # The first request also loads the user's permissions, which later requests reuse.
    warm_up, _ = _post_counting_queries(client, django_capture_on_commit_callbacks, payload)
    make_reviewed(Review.Verdict.APPROVED)
    small, small_queries = _post_counting_queries(client, django_capture_on_commit_callbacks, payload)
    for _ in range(10):
        make_reviewed(Review.Verdict.APPROVED)
    large, large_queries = _post_counting_queries(client, django_capture_on_commit_callbacks, payload)

    assert small.status_code == large.status_code == 202
    assert large.json()["state"] == "queued"
    assert (large.json()["rows_done"], large.json()["rows_total"]) == (0, 0)
    assert len(small_queries) == len(large_queries)
    assert [sql for sql in large_queries if "reviews_reviewitem" in sql] == []
    assert [message["args"] for message in published] == [
        [warm_up.json()["id"]], [small.json()["id"]], [large.json()["id"]],
    ]


def test_status_shows_running_progress(manager, queue):
    job = ExportJob.objects.create(requester=manager, filters={"queues": [queue.slug]})
    heartbeat = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.RUNNING, rows_done=250, rows_total=1000, attempts=2, heartbeat_at=heartbeat
    )

    body = _client(manager).get(f"{EXPORTS_URL}{job.pk}/").json()

    assert body["state"] == "running"
    assert (body["rows_done"], body["rows_total"], body["progress"]) == (250, 1000, 0.25)
    assert body["attempts"] == 2
    assert body["heartbeat_at"] == heartbeat.isoformat().replace("+00:00", "Z")
    assert body["download_url"] is None
    assert body["rerun_of"] is None


def test_idempotency_key_returns_running_job(manager, queue, published, django_capture_on_commit_callbacks):
    client = _client(manager)
    payload = {"filters": {"queues": [queue.slug]}, "idempotency_key": "nightly-2026-05-01"}
    first, _ = _post_counting_queries(client, django_capture_on_commit_callbacks, payload)
    ExportJob.objects.filter(pk=first.json()["id"]).update(state=ExportJob.State.RUNNING, rows_done=5, rows_total=9)

    second, _ = _post_counting_queries(client, django_capture_on_commit_callbacks, payload)

    assert second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["state"] == "running"
    assert len(published) == 1
