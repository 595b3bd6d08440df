"""The hash chain over audit events: canonical content, the SHA-256 link and the lock that orders appends.

An event's ``hash`` is the SHA-256 of a canonical JSON document holding its
content and ``previous_hash``. The form is chosen so that a hash computed
before the insert matches one computed from the row read back, on SQLite and
on PostgreSQL (whose jsonb reorders keys and may print ``1e20`` as
``100000000000000000000``):

- keys sorted, no whitespace, ASCII only (``\\uXXXX`` escapes);
- floats with an integral value written as integers, other floats as
  Python's shortest round-trip form, NaN and infinities rejected;
- times in UTC with microseconds, the precision both databases keep.
"""

import datetime
import hashlib
import json
import math
from typing import Any

from django.db import connection

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that makes appends to the chain take turns.
CHAIN_LOCK_KEY = 0x626F6F6B_61756474  # "bookaudt"

HASHED_FIELDS = (
    "actor_id", "actor_label", "via_token", "initiator_id", "channel", "action", "object_type", "object_id",
    "before", "after", "request_id", "created_at",
)


def normalise_json(value: Any) -> Any:
    """Return ``value`` with integral floats as integers; raise for NaN, infinities and non-JSON types."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Audit values must be finite numbers, not {value!r}.")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): normalise_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_json(item) for item in value]
    raise TypeError(f"Audit values must be JSON types, not {type(value).__name__}.")


def time_text(value: datetime.datetime) -> str:
    """Return ``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(normalise_json(content), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def event_content(event) -> dict[str, Any]:
    """Return the hashed fields of ``event`` (an AuditEvent or any object with the same attributes)."""
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["created_at"] = time_text(event.created_at)
    content["previous_hash"] = event.previous_hash
    return content


def event_hash(event) -> str:
    return hashlib.sha256(canonical_json(event_content(event)).encode("ascii")).hexdigest()


def chain_lock() -> None:
    """Make the caller's transaction the only one appending events until it ends.

    On PostgreSQL this takes a transaction-level advisory lock. The chain
    head must be read by a later statement: under READ COMMITTED only a
    statement that starts after the lock sees the event that the previous
    holder committed. SQLite needs no lock, because Bookbag opens its
    transactions with IMMEDIATE, so the write lock already lets one writer
    in at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head() -> str:
    """Return the hash the next event links to: the newest event's, or the last checkpoint's when none is left."""
    from .models import AuditCheckpoint, AuditEvent

    # Every audited transaction runs this under the chain lock, so it skips building a queryset.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {connection.ops.quote_name(AuditEvent._meta.db_table)} ORDER BY id DESC LIMIT 1")
        latest = cursor.fetchone()
    if latest is not None:
        return latest[0]
    checkpoint = AuditCheckpoint.objects.order_by("-id").values_list("head_hash", flat=True).first()
    return checkpoint or GENESIS_HASH
