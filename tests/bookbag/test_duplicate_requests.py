"""Identical ingest and export requests sent at the same moment leave one row each.

The throttle is off here: the unique constraints on ``source`` +
``external_id`` and on ``requester`` + ``idempotency_key`` alone keep the
rows single. Each request runs in its own thread with its own database
connection, so only PostgreSQL runs them truly in parallel.
"""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bookbag.tokens.services import token_create
from exports.models import ExportJob
from reviews.models import ReviewItem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL_REQUESTS = 6
THREAD_TIMEOUT_SECONDS = 60


@pytest.fixture
def no_throttle(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": None, "export": None}}


def _send_together(key: str, path: str, payload) -> list:
    """POST ``payload`` from PARALLEL_REQUESTS threads released at once; return each response or error."""
    start = threading.Barrier(PARALLEL_REQUESTS)
    results: list = []

    def send() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            start.wait(timeout=THREAD_TIMEOUT_SECONDS)
            results.append(client.post(path, payload, format="json"))
        except Exception as error:  # noqa: BLE001 - the main thread reports every failure
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(PARALLEL_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    assert [thread.name for thread in threads if thread.is_alive()] == []
    return results


def test_parallel_ingest_keeps_items_single(no_throttle, manager, queue):
    _, key = token_create(user=manager, scopes=["ingest"])
    payload = [
        {
            "queue": queue.slug, "source": "app", "external_id": f"conv-{number}",
            "conversation": [{"role": "user", "content": "The WAN light blinks amber."}],
            "response": "Restart the router.",
        }
        for number in range(20)
    ]

    results = _send_together(key, "/api/v1/items/", payload)

    assert [result for result in results if isinstance(result, Exception)] == []
    statuses = sorted(result.status_code for result in results)
    # A request that loses the insert race gets 409 ingest_race, and a later one counts duplicates.
    assert set(statuses) <= {201, 409}
    assert all(result.json()["code"] == "ingest_race" for result in results if result.status_code == 409)
    assert sum(result.json()["created"] for result in results if result.status_code == 201) == 20
    assert ReviewItem.objects.filter(source="app").count() == 20


def test_parallel_export_same_key_one_job(no_throttle, manager, queue):
    _, key = token_create(user=manager, scopes=["export"])
    payload = {"filters": {"queues": [queue.slug]}, "idempotency_key": "nightly-7"}

    results = _send_together(key, "/api/v1/exports/", payload)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert [(result.status_code, result.json()) for result in results if result.status_code != 202] == []
    assert len({result.json()["id"] for result in results}) == 1
    assert ExportJob.objects.filter(idempotency_key="nightly-7").count() == 1
