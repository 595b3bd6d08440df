"""Services that register, change and remove webhook endpoints, and the reads the admin and API share.

A manager owns the endpoints they register, and an endpoint receives events
about its owner's export jobs only. Superusers may see and change every
endpoint. Audit events never record the secret, only whether it changed.
"""

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import NotFound, PermissionDenied
from reviews.access import is_manager, webhook_deliveries_visible, webhook_endpoints_visible

from ..models import WebhookDelivery, WebhookEndpoint

ENDPOINT_FIELDS = ("owner", "url", "events", "is_active")
EDITABLE_FIELDS = frozenset({"url", "events", "secret", "is_active"})
MIN_SECRET_LENGTH = 16
SECRET_BYTES = 32


def webhook_endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    """Return the endpoints ``user`` may see (``reviews.access.webhook_endpoints_visible``), oldest first."""
    return webhook_endpoints_visible(user).select_related("owner").order_by("id")


def webhook_delivery_list(*, user) -> QuerySet[WebhookDelivery]:
    """Return the delivery attempts to the endpoints ``user`` may see, newest first."""
    return (
        webhook_deliveries_visible(user)
        .select_related("endpoint", "job")
        .order_by("-created_at", "-id")
    )


def webhook_endpoint_get(*, user, endpoint_id: int) -> WebhookEndpoint:
    """Return endpoint ``endpoint_id`` if ``user`` may see it; raise NotFound otherwise."""
    endpoint = webhook_endpoint_list(user=user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found among your endpoints.")
    return endpoint


@transaction.atomic
def webhook_endpoint_create(
    *, actor, url: str, events: list[str], secret: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register ``url`` to receive ``events`` about ``actor``'s export jobs.

    A blank ``secret`` is replaced by a generated one. Raises
    PermissionDenied for non-managers and ValidationError for an invalid URL,
    event list or secret.
    """
    if not is_manager(actor):
        raise PermissionDenied("Only managers register webhook endpoints.")
    endpoint = WebhookEndpoint(
        owner=actor, url=url, events=events, secret=secret or secrets.token_hex(SECRET_BYTES), is_active=is_active
    )
    secret_validate(endpoint.secret)
    endpoint.full_clean()
    endpoint.save()
    audit_record(actor=actor, action="webhook.create", instance=endpoint, after=snapshot(endpoint, ENDPOINT_FIELDS))
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, actor, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change the ``url``, ``events``, ``secret`` or ``is_active`` of an endpoint ``actor`` may see.

    A blank ``secret`` is replaced by a newly generated one. Raises NotFound for another manager's endpoint and ValidationError for an
    unknown field or an invalid value.
    """
    endpoint = webhook_endpoint_get(user=actor, endpoint_id=endpoint.pk)
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            f"Field {unknown[0]!r} cannot be changed; only {', '.join(sorted(EDITABLE_FIELDS))} can."
        )
    if "secret" in changes and not changes["secret"]:
        changes["secret"] = secrets.token_hex(SECRET_BYTES)
    before = snapshot(endpoint, ENDPOINT_FIELDS)
    secret_changed = "secret" in changes and changes["secret"] != endpoint.secret
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if secret_changed:
        secret_validate(endpoint.secret)
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        actor=actor, action="webhook.update", instance=endpoint,
        # The secret itself is never recorded; only the fact that it changed.
        before=before, after={**snapshot(endpoint, ENDPOINT_FIELDS), **({"secret_changed": True} if secret_changed else {})},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint ``actor`` may see, with its delivery log; raise NotFound for another manager's."""
    endpoint = webhook_endpoint_get(user=actor, endpoint_id=endpoint.pk)
    audit_record(actor=actor, action="webhook.delete", instance=endpoint, before=snapshot(endpoint, ENDPOINT_FIELDS))
    endpoint.delete()


def secret_validate(secret: str) -> None:
    """Raise ValidationError unless ``secret`` has enough printable characters and no surrounding spaces."""
    if len(secret) < MIN_SECRET_LENGTH or not secret.isprintable() or secret != secret.strip():
        raise ValidationError(
            {"secret": f"The secret must be at least {MIN_SECRET_LENGTH} printable characters without leading or "
                       "trailing spaces; leave it blank to have one generated."}
        )
