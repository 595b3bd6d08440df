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


class ValidationErrors:
    """A collector of the ValidationErrors of several independent checks, so that one error lists them all."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def check(self, function, *args, default=None, **kwargs):
        """Return ``function(*args, **kwargs)``, or ``default`` after keeping the ValidationError it raises."""
        try:
            return function(*args, **kwargs)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.messages.setdefault(key, []).extend(messages)
            return default

    def add(self, key: str, message: str) -> None:
        """Keep ``message`` for ``key``, as a failed check would."""
        self.messages.setdefault(key, []).append(message)

    def raise_any(self) -> None:
        """Raise one ValidationError with every kept message, if there is any."""
        if self.messages:
            raise ValidationError(self.messages)


__all__ = ["BookbagError", "Conflict", "NotFound", "PermissionDenied", "ValidationError", "ValidationErrors"]
