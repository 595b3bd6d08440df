"""The one writer of audit events; every state-changing service calls it."""

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models

from .context import current
from .models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the JSON-ready values of ``fields`` on ``instance`` (foreign keys as ids)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attribute = field.attname if field.is_relation and field.many_to_one else name
        values[name] = _jsonable(getattr(instance, attribute))
    return values


def audit_record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event for ``action`` on ``instance`` within the caller's transaction.

    ``actor`` is a user or None for system work. Channel, request id and the
    token in use come from the current audit context.
    """
    context = current()
    label = ""
    if actor is not None:
        label = actor.get_username()
        if context.via_token:
            label = f"{label} (token {context.via_token})"
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=label,
        channel=context.channel,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
        request_id=context.request_id,
    )
