"""Exceptions that services raise, each with a stable ``code`` for clients."""

from django.core.exceptions import ValidationError


class BookbagError(Exception):
    """A domain rule refused the request; ``code`` is stable, the message is for people."""

    code = "error"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(BookbagError):
    code = "not_found"
    status_code = 404


class PermissionDenied(BookbagError):
    code = "permission_denied"
    status_code = 403


class Conflict(BookbagError):
    code = "conflict"
    status_code = 409


__all__ = ["BookbagError", "Conflict", "NotFound", "PermissionDenied", "ValidationError"]
