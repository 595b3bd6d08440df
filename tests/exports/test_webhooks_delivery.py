import datetime
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.utils import timezone

from exports.lifecycle import export_fail_stale
from exports.models import ExportJob, WebhookDelivery, WebhookEndpoint
from exports.services import export_build, export_request
from exports.tasks import WEBHOOK_MAX_RETRIES, WEBHOOK_RETRY_BASE_SECONDS, deliver_webhook
from exports.webhooks.delivery import delivery_is_retryable, event_payload
from exports.webhooks.endpoints import webhook_endpoint_create
from exports.webhooks.signing import verify
from tests.exports.task_fixtures import closed_port_url, receiver, retry_countdowns  # noqa: F401 (fixtures)
from tests.factories import ManagerFactory, MembershipFactory, QueueFactory

pytestmark = pytest.mark.django_db

SUCCEEDED = WebhookEndpoint.Event.EXPORT_SUCCEEDED
FAILED = WebhookEndpoint.Event.EXPORT_FAILED


def _endpoint(owner, url: str, events=(SUCCEEDED, FAILED), **options) -> WebhookEndpoint:
    return webhook_endpoint_create(actor=owner, url=url, events=list(events), **options)


def _queued_job(manager, queue, filters=None) -> ExportJob:
    return export_request(requester=manager, kind="both", format="trl",
                          filters=filters or {"queues": [queue.slug]}, enqueue=False)


def _build(job, capture) -> None:
    with capture(execute=True):
        export_build(job_id=job.pk)
    job.refresh_from_db()


def _send(endpoint, job, event=SUCCEEDED):
    event_id = str(uuid.uuid4())
    payload = event_payload(job=job, event=event, event_id=event_id)
    return deliver_webhook.delay(endpoint.pk, event_id, event, payload), event_id


def test_succeeded_export_posts_signed_event(manager, queue, mixed_items, receiver,
                                             django_capture_on_commit_callbacks):
    endpoint = _endpoint(manager, receiver.url)
    job = _queued_job(manager, queue)

    _build(job, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = request.headers
    assert request.path == "/hooks/bookbag"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Bookbag-Event"] == "export.succeeded"
    assert abs(int(headers["X-Bookbag-Timestamp"]) - time.time()) < 10
    signed = headers["X-Bookbag-Timestamp"].encode() + b"." + request.body
    digest = hmac.new(endpoint.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Bookbag-Signature"] == f"sha256={digest}"
    assert verify(secret=endpoint.secret, timestamp=headers["X-Bookbag-Timestamp"], body=request.body,
                  signature=headers["X-Bookbag-Signature"])
    body = json.loads(request.body)
    assert body["id"] == headers["X-Bookbag-Event-Id"]
    assert body["type"] == "export.succeeded"
    assert body["data"]["export"]["id"] == job.pk
    assert body["data"]["export"]["state"] == "succeeded"
    assert body["data"]["export"]["sha256"] == job.sha256
    assert body["data"]["export"]["download_path"] == f"/api/v1/exports/{job.pk}/download/"


def test_delivery_attempt_is_logged(manager, queue, mixed_items, receiver, django_capture_on_commit_callbacks):
    endpoint = _endpoint(manager, receiver.url)
    job = _queued_job(manager, queue)

    _build(job, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint
    assert delivery.job == job
    assert str(delivery.event_id) == receiver.requests[0].headers["X-Bookbag-Event-Id"]
    assert delivery.event == "export.succeeded"
    assert delivery.attempt == 1
    assert delivery.succeeded is True
    assert delivery.status_code == 200
    assert delivery.response_ms is not None and delivery.response_ms >= 0
    assert delivery.error == ""
    assert delivery.payload == json.loads(receiver.requests[0].body)


def test_failed_export_notifies_subscribers(manager, queue, mixed_items, receiver,
                                                         django_capture_on_commit_callbacks):
    _endpoint(manager, receiver.url, events=[FAILED])
    _endpoint(manager, receiver.url + "/succeeded-only", events=[SUCCEEDED])
    earlier = _queued_job(manager, queue)
    ExportJob.objects.filter(pk=earlier.pk).update(state=ExportJob.State.SUCCEEDED, started_at=timezone.now())
    job = _queued_job(manager, queue, filters={"queues": [queue.slug], "since_export": earlier.pk})
    ExportJob.objects.filter(pk=earlier.pk).delete()

    _build(job, django_capture_on_commit_callbacks)

    assert job.state == ExportJob.State.FAILED
    assert [request.path for request in receiver.requests] == ["/hooks/bookbag"]
    body = json.loads(receiver.requests[0].body)
    assert body["type"] == "export.failed"
    assert body["data"]["export"]["error"] == job.error
    assert body["data"]["export"]["download_path"] is None


def test_swept_job_posts_failed_event(manager, queue, receiver, settings, django_capture_on_commit_callbacks):
    settings.BOOKBAG_EXPORT_STALE_FAIL_AFTER = 60
    _endpoint(manager, receiver.url, events=[FAILED])
    job = _queued_job(manager, queue)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, attempts=1, heartbeat_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        export_fail_stale()

    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body)["data"]["export"]["state"] == "failed"


def test_foreign_and_inactive_endpoints_skipped(manager, queue, mixed_items, receiver,
                                                            django_capture_on_commit_callbacks):
    other = ManagerFactory(username="other-manager")
    MembershipFactory(queue=QueueFactory(), user=other, role="manager")
    _endpoint(other, receiver.url + "/other")
    _endpoint(manager, receiver.url + "/paused", is_active=False)
    job = _queued_job(manager, queue)

    _build(job, django_capture_on_commit_callbacks)

    assert job.state == ExportJob.State.SUCCEEDED
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 0


def test_server_error_is_retried_with_backoff(manager, queue, receiver, retry_countdowns):
    receiver.script = [500, 503, 200]
    endpoint = _endpoint(manager, receiver.url)

    result, event_id = _send(endpoint, _queued_job(manager, queue))

    assert result.get() == "succeeded"
    assert len(receiver.requests) == 3
    assert {request.headers["X-Bookbag-Event-Id"] for request in receiver.requests} == {event_id}
    attempts = WebhookDelivery.objects.order_by("attempt")
    assert [(d.attempt, d.status_code, d.succeeded) for d in attempts] == [
        (1, 500, False), (2, 503, False), (3, 200, True),
    ]
    assert attempts[0].error == "HTTP 500 Internal Server Error: receiver refused the event"
    assert len(retry_countdowns) == 2
    for retries, countdown in enumerate(retry_countdowns):
        expected = WEBHOOK_RETRY_BASE_SECONDS * 2**retries
        assert expected <= countdown <= expected * 1.1 + 1


def test_refused_connection_is_retried_until_limit(manager, queue, closed_port_url, retry_countdowns):
    endpoint = _endpoint(manager, closed_port_url)

    result, _ = _send(endpoint, _queued_job(manager, queue))

    assert result.get() == "failed"
    attempts = list(WebhookDelivery.objects.order_by("attempt"))
    assert [delivery.attempt for delivery in attempts] == list(range(1, WEBHOOK_MAX_RETRIES + 2))
    for delivery in attempts:
        assert delivery.status_code is None
        assert delivery.succeeded is False
        assert delivery.error.startswith("Request failed: ConnectionRefusedError: ")
    assert len(retry_countdowns) == WEBHOOK_MAX_RETRIES


def test_client_error_is_not_retried(manager, queue, receiver, retry_countdowns):
    receiver.script = [400]
    endpoint = _endpoint(manager, receiver.url)

    result, _ = _send(endpoint, _queued_job(manager, queue))

    assert result.get() == "failed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status_code, delivery.error) == (400, "HTTP 400 Bad Request: receiver refused the event")
    assert retry_countdowns == []


def test_redirect_is_not_followed(manager, queue, receiver, retry_countdowns):
    receiver.script = [("redirect", receiver.url + "/moved")]
    endpoint = _endpoint(manager, receiver.url)

    result, _ = _send(endpoint, _queued_job(manager, queue))

    assert result.get() == "failed"
    assert [request.path for request in receiver.requests] == ["/hooks/bookbag"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code == 302
    assert delivery.error == (
        f"HTTP 302 redirect to {receiver.url}/moved; redirects are not followed, so register the final URL."
    )


def test_timeout_is_recorded_and_retried(manager, queue, receiver, retry_countdowns, settings):
    settings.BOOKBAG_WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.script = [("slow", 1.0), 200]
    endpoint = _endpoint(manager, receiver.url)

    result, _ = _send(endpoint, _queued_job(manager, queue))

    assert result.get() == "succeeded"
    first, second = WebhookDelivery.objects.order_by("attempt")
    assert (first.status_code, first.error) == (None, "Timed out after 0.2 s waiting for the receiver.")
    assert second.succeeded is True


def test_deactivated_endpoint_is_skipped(manager, queue, receiver):
    endpoint = _endpoint(manager, receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    result, _ = _send(endpoint, _queued_job(manager, queue))

    assert result.get() is None
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    ("status_code", "retryable"),
    [(None, True), (500, True), (502, True), (429, True), (400, False), (404, False), (302, False)],
)
def test_retryable_failures(status_code, retryable):
    delivery = WebhookDelivery(succeeded=False, status_code=status_code)

    assert delivery_is_retryable(delivery) is retryable


def test_delivery_task_name_and_queue():
    from bookbag.celery import app

    route = app.amqp.router.route(deliver_webhook._get_exec_options(), deliver_webhook.name)

    assert deliver_webhook.name == "exports.deliver_webhook"
    assert route["queue"].name == "default"
    assert deliver_webhook.acks_late is True
