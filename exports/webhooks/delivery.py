"""Sending export events to webhook endpoints, one recorded attempt at a time.

``webhook_event_emit`` runs inside the transaction that finishes a job and
queues one delivery task per subscribed endpoint once it commits. The task
calls ``webhook_deliver`` for each attempt and retries with backoff while
``delivery_is_retryable`` is true. Redirects are not followed, so a delivery
reaches only the URL that a manager registered.
"""

import functools
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from ..models import ExportJob, WebhookDelivery, WebhookEndpoint
from . import signing

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
USER_AGENT = "Bookbag-Webhooks/1"
# The response body is read only to free the connection; at most this much is kept for the error text.
MAX_RESPONSE_BYTES = 64 * 1024
ERROR_BODY_EXCERPT = 200


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None
    response_ms: int
    error: str


def webhook_event_emit(*, job: ExportJob, event: str) -> int:
    """Queue ``event`` about ``job`` for each active endpoint of the job's requester that subscribes to it.

    The tasks are sent once the caller's transaction commits. Every endpoint
    receives the same event id. Returns the number of endpoints.
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(owner_id=job.requester_id, is_active=True)
        if event in endpoint.events
    ]
    if not endpoints:
        return 0
    event_id = str(uuid.uuid4())
    payload = event_payload(job=job, event=event, event_id=event_id)
    for endpoint in endpoints:
        # robust=True logs an error while sending instead of raising it to the code that finished the job.
        transaction.on_commit(functools.partial(_enqueue, endpoint.pk, event_id, event, payload), robust=True)
    logger.info("webhook.event_emitted", extra={"job_id": job.pk, "event": event, "endpoints": len(endpoints)})
    return len(endpoints)


def _enqueue(endpoint_id: int, event_id: str, event: str, payload: dict[str, Any]) -> None:
    from ..tasks import deliver_webhook

    try:
        deliver_webhook.delay(endpoint_id, event_id, event, payload)
    except KombuOperationalError as error:
        # NOTE: the event is lost for this endpoint; the job itself and its state are unaffected.
        logger.error(
            "webhook.enqueue_failed",
            extra={"endpoint_id": endpoint_id, "event_id": event_id, "error": str(error)},
        )


def event_payload(*, job: ExportJob, event: str, event_id: str) -> dict[str, Any]:
    """Return the JSON body of ``event`` about ``job``."""
    succeeded = job.state == ExportJob.State.SUCCEEDED
    return {
        "id": event_id,
        "type": event,
        "created_at": timezone.now().isoformat(),
        "data": {
            "export": {
                "id": job.pk,
                "state": job.state,
                "kind": job.kind,
                "format": job.format,
                "filters": job.filters,
                "rows_done": job.rows_done,
                "rows_total": job.rows_total,
                "counts": job.counts,
                "error": job.error,
                "sha256": job.sha256,
                "attempts": job.attempts,
                "created_at": job.created_at.isoformat(),
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
                "download_path": reverse("export-download", args=[job.pk]) if succeeded else None,
            }
        },
    }


def webhook_deliver(
    *, endpoint_id: int, event_id: str, event: str, payload: dict[str, Any], attempt: int
) -> WebhookDelivery | None:
    """POST one signed attempt of an event to an endpoint and record the outcome.

    Returns the recorded attempt, or None when the endpoint has been deleted
    or deactivated since the event. Raises ValidationError, without sending,
    for a URL whose scheme is not http or https.
    """
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).first()
    if endpoint is None:
        logger.info("webhook.delivery_skipped", extra={"endpoint_id": endpoint_id, "event_id": event_id})
        return None
    # NOTE: any http(s) host is called, private addresses included. A deployment that must keep
    # managers away from internal services needs an egress proxy or a firewall rule for the workers.
    scheme = urlsplit(endpoint.url).scheme
    if scheme not in ALLOWED_SCHEMES:
        raise ValidationError(
            f"Webhook endpoint {endpoint.pk} has URL scheme {scheme!r}; only http and https URLs are called."
        )

    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: event,
        signing.EVENT_ID_HEADER: event_id,
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    outcome = _post(endpoint.url, body=body, headers=headers)
    return _delivery_record(endpoint, event_id=event_id, event=event, payload=payload, attempt=attempt,
                            outcome=outcome)


@transaction.atomic
def _delivery_record(endpoint: WebhookEndpoint, *, event_id: str, event: str, payload: dict[str, Any],
                     attempt: int, outcome: HttpOutcome) -> WebhookDelivery:
    job_id = payload["data"]["export"]["id"]
    delivery = WebhookDelivery(
        endpoint=endpoint, event_id=event_id, event=event, payload=payload, attempt=attempt,
        job=ExportJob.objects.filter(pk=job_id).first(),
        succeeded=outcome.status_code is not None and 200 <= outcome.status_code < 300,
        status_code=outcome.status_code, response_ms=outcome.response_ms, error=outcome.error,
    )
    delivery.full_clean()
    delivery.save()
    log = logger.info if delivery.succeeded else logger.warning
    log(
        "webhook.delivered" if delivery.succeeded else "webhook.delivery_failed",
        extra={"endpoint_id": endpoint.pk, "event_id": event_id, "attempt": attempt,
               "status_code": outcome.status_code, "response_ms": outcome.response_ms, "error": outcome.error},
    )
    return delivery


def delivery_is_retryable(delivery: WebhookDelivery) -> bool:
    """Return whether a failed attempt may succeed later: a network error, a 5xx or 429 response."""
    if delivery.succeeded:
        return False
    if delivery.status_code is None:
        return True
    return delivery.status_code >= 500 or delivery.status_code == 429


class _NoRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Raise HTTPError with the 3xx status of a redirect instead of following it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirectHandler)


def _post(url: str, *, body: bytes, headers: dict[str, str]) -> HttpOutcome:
    timeout = settings.BOOKBAG_WEBHOOK_TIMEOUT_SECONDS
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(MAX_RESPONSE_BYTES)
            status, error = response.status, ""
    except urllib.error.HTTPError as failure:
        status, error = failure.code, _http_error_text(failure)
        failure.close()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as failure:
        status, error = None, _network_error_text(failure, timeout=timeout)
    return HttpOutcome(status_code=status, response_ms=round((time.monotonic() - started) * 1000), error=error)


def _http_error_text(failure: urllib.error.HTTPError) -> str:
    if 300 <= failure.code < 400:
        return (
            f"HTTP {failure.code} redirect to {failure.headers.get('Location', '(no Location header)')}; "
            "redirects are not followed, so register the final URL."
        )
    excerpt = failure.read(MAX_RESPONSE_BYTES)[:ERROR_BODY_EXCERPT].decode("utf-8", "replace").strip()
    return f"HTTP {failure.code} {failure.reason}: {excerpt}" if excerpt else f"HTTP {failure.code} {failure.reason}"


def _network_error_text(failure: Exception, *, timeout: float) -> str:
    # urllib wraps errors raised while connecting in URLError and raises errors while reading as they are.
    reason = failure.reason if isinstance(failure, urllib.error.URLError) else failure
    if isinstance(reason, TimeoutError):
        return f"Timed out after {timeout} s waiting for the receiver."
    if isinstance(reason, BaseException):
        return f"Request failed: {type(reason).__name__}: {reason}"
    return f"Request failed: {reason}"
