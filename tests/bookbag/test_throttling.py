"""Rate limits on ingest and export requests, and their settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookbag.settings.base import cache_config, throttle_rate
from exports.models import ExportJob
from reviews.models import QueueMembership, ReviewItem
from tests.api_clients import token_client
from tests.conftest import skip_or_fail
from tests.factories import ManagerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

ITEMS_URL = "/api/v1/items/"
EXPORTS_URL = "/api/v1/exports/"


@pytest.fixture
def rates(settings):
    """Set the ingest and export rates of this test; None turns a limit off."""

    def apply(*, ingest: str | None = "2/min", export: str | None = "2/min") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": ingest, "export": export},
        }

    return apply


def item(queue, external_id: str) -> dict:
    return {
        "queue": queue.slug, "source": "app", "external_id": external_id,
        "conversation": [{"role": "user", "content": "The WAN light blinks amber."}],
        "response": "Restart the router.",
    }


def test_ingest_over_rate_answers_429(rates, manager, queue):
    rates(ingest="2/min")
    client = token_client(manager)
    for number in range(2):
        assert client.post(ITEMS_URL, item(queue, f"i-{number}"), format="json").status_code == 201

    response = client.post(ITEMS_URL, item(queue, "i-2"), format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response.json()["errors"] == {}
    assert 0 < int(response["Retry-After"]) <= 60
    assert f"retry after {response['Retry-After']} seconds" in response.json()["message"]
    assert ReviewItem.objects.count() == 2


def test_ingest_limit_counts_per_user(rates, manager, queue):
    rates(ingest="1/min")
    other = ManagerFactory(username="other-manager")
    MembershipFactory(queue=queue, user=other, role=QueueMembership.Role.MANAGER)
    token_client(manager).post(ITEMS_URL, item(queue, "i-0"), format="json")

    response = token_client(other).post(ITEMS_URL, item(queue, "i-1"), format="json")

    assert response.status_code == 201


def test_item_reads_are_not_limited(rates, manager, queue):
    rates(ingest="1/min")
    client = token_client(manager)

    statuses = [client.get(ITEMS_URL).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


def test_export_over_rate_answers_429(rates, manager, queue, django_capture_on_commit_callbacks):
    rates(export="1/hour")
    client = token_client(manager)
    payload = {"filters": {"queues": [queue.slug]}}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(EXPORTS_URL, payload, format="json").status_code == 202

    response = client.post(EXPORTS_URL, payload, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert ExportJob.objects.count() == 1


def test_export_rerun_shares_export_limit(rates, manager, queue, django_capture_on_commit_callbacks):
    rates(export="1/hour")
    client = token_client(manager)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post(EXPORTS_URL, {"filters": {"queues": [queue.slug]}}, format="json").json()["id"]

    response = client.post(f"{EXPORTS_URL}{job_id}/rerun/")

    assert response.status_code == 429
    assert ExportJob.objects.count() == 1


def test_rate_off_never_limits(rates, manager, queue):
    rates(ingest=None)
    client = token_client(manager)

    statuses = [client.post(ITEMS_URL, item(queue, f"i-{number}"), format="json").status_code for number in range(5)]

    assert statuses == [201] * 5


def test_duplicate_ingest_without_throttle_stays_one_row(rates, manager, queue):
    rates(ingest=None)
    client = token_client(manager)

    bodies = [client.post(ITEMS_URL, item(queue, "same"), format="json").json() for _ in range(3)]

    assert [body["created"] for body in bodies] == [1, 0, 0]
    assert ReviewItem.objects.filter(source="app", external_id="same").count() == 1


def test_duplicate_export_key_without_throttle_stays_one_row(
    rates, manager, queue, django_capture_on_commit_callbacks
):
    rates(export=None)
    client = token_client(manager)
    payload = {"filters": {"queues": [queue.slug]}, "idempotency_key": "nightly-1"}

    with django_capture_on_commit_callbacks(execute=True):
        ids = {client.post(EXPORTS_URL, payload, format="json").json()["id"] for _ in range(3)}

    assert len(ids) == 1
    assert ExportJob.objects.filter(idempotency_key="nightly-1").count() == 1


def test_throttle_rate_reads_variable(monkeypatch):
    monkeypatch.setenv("BOOKBAG_THROTTLE_INGEST", "30/hour")

    assert throttle_rate("BOOKBAG_THROTTLE_INGEST", "120/min") == "30/hour"


def test_throttle_rate_default(monkeypatch):
    monkeypatch.delenv("BOOKBAG_THROTTLE_INGEST", raising=False)

    assert throttle_rate("BOOKBAG_THROTTLE_INGEST", "120/min") == "120/min"


def test_throttle_rate_off(monkeypatch):
    monkeypatch.setenv("BOOKBAG_THROTTLE_EXPORT", "OFF")

    assert throttle_rate("BOOKBAG_THROTTLE_EXPORT", "60/hour") is None


@pytest.mark.parametrize("value", ["fast", "10", "10/week", "-1/min", "1.5/min"])
def test_throttle_rate_rejects_invalid_value(monkeypatch, value):
    monkeypatch.setenv("BOOKBAG_THROTTLE_EXPORT", value)

    with pytest.raises(ImproperlyConfigured) as error:
        throttle_rate("BOOKBAG_THROTTLE_EXPORT", "60/hour")

    assert str(error.value).startswith(f"BOOKBAG_THROTTLE_EXPORT={value!r} is not a rate")


def test_cache_is_local_memory_by_default():
    assert cache_config("")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_cache_url_selects_redis():
    config = cache_config("redis://127.0.0.1:6379/2")

    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6379/2"


def test_redis_cache_holds_throttle_counts(rates, settings, manager, queue):
    """With a Redis cache, as CACHE_URL or REDIS_URL sets up, the counts live in Redis."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail("needs Redis at 127.0.0.1:6379")
    settings.CACHES = {"default": {**cache_config(url), "KEY_PREFIX": "bookbag-throttle-test"}}
    rates(ingest="1/min")
    client = token_client(manager)

    server = redis.Redis.from_url(url)
    try:
        first = client.post(ITEMS_URL, item(queue, "r-0"), format="json")
        second = client.post(ITEMS_URL, item(queue, "r-1"), format="json")
        stored = server.keys("bookbag-throttle-test:*throttle_ingest_*")
    finally:
        # Deletes only this test's keys; cache.clear() would empty the whole Redis database.
        for key in server.keys("bookbag-throttle-test:*"):
            server.delete(key)

    assert first.status_code == 201
    assert second.status_code == 429
    assert len(stored) == 1
