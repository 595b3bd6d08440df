"""The channel and request id that audit events record for the current work.

Middleware sets them for web requests; commands and tasks set them with
``audit_context``. Context variables keep concurrent requests apart.
"""

import contextlib
import dataclasses
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    channel: str
    request_id: str
    via_token: str = ""
    initiator_id: int | None = None


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "bookbag_audit_context", default=AuditContext(channel="shell", request_id="")
)


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def audit_context(
    *, channel: str, request_id: str = "", via_token: str = "", initiator_id: int | None = None
) -> Iterator[AuditContext]:
    """Record ``channel`` and ``request_id`` on every event written inside the block.

    ``initiator_id`` names the user whose request started the work, for tasks
    that act as the system.
    """
    context = AuditContext(
        channel=channel, request_id=request_id or uuid.uuid4().hex, via_token=via_token, initiator_id=initiator_id
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def set_token(prefix: str) -> None:
    """Mark the current request as authenticated by the API token with ``prefix``."""
    context = _current.get()
    _current.set(dataclasses.replace(context, via_token=prefix))
