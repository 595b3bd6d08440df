"""HMAC-SHA256 signatures of webhook deliveries.

The signed message is the ``X-Bookbag-Timestamp`` header value (Unix time in
whole seconds), a dot, and the raw request body. ``X-Bookbag-Signature``
carries ``sha256=`` and the hex digest of that message under the endpoint's
secret. A receiver computes the same digest, compares the two in constant
time, and rejects timestamps outside its tolerance so that a captured request
cannot be replayed later. ``X-Bookbag-Event-Id`` stays the same on every
attempt of one event, so a receiver can drop repeats.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Bookbag-Signature"
TIMESTAMP_HEADER = "X-Bookbag-Timestamp"
EVENT_ID_HEADER = "X-Bookbag-Event-Id"
EVENT_HEADER = "X-Bookbag-Event"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 5 * 60


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``X-Bookbag-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    *,
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Return whether ``signature`` signs ``body`` at ``timestamp`` and the timestamp is within the tolerance.

    ``timestamp`` and ``signature`` are the raw header values, so malformed
    values return False instead of raising.
    """
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    expected = sign(secret=secret, timestamp=int(timestamp), body=body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
