"""One error body for the whole API: ``{"code", "message", "errors"}``."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bookbag.errors import BookbagError


def _django_validation_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return dict(error.message_dict)
    return {"non_field_errors": list(error.messages)}


def _first_error(detail, path: str = "") -> tuple[str, str] | None:
    """Return the path (``criteria[1].kind``) and text of the first message in a DRF error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                child_path = f"{path}[{key}]"
            else:
                child_path = f"{path}.{key}" if path else str(key)
            found = _first_error(value, child_path)
            if found:
                return found
        return None
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            found = _first_error(value, f"{path}[{index}]") if isinstance(value, dict | list) else (path, str(value))
            if found:
                return found
        return None
    return path, str(detail)


def exception_handler(exc, context):
    """Map service errors and DRF errors onto the one error body."""
    if isinstance(exc, BookbagError):
        return Response({"code": exc.code, "message": exc.message, "errors": {}}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        first = next(iter(errors.values()))[0]
        code = getattr(exc, "code", None) or "invalid"
        return Response({"code": code, "message": first, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)

    # DRF also handles Django's Http404 and PermissionDenied. Converting them here gives them the same body.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        path, first = _first_error(detail) or ("", "Invalid input.")
        message = first if path in ("", "non_field_errors") else f"{path}: {first}"
        response.data = {"code": "invalid", "message": message, "errors": detail}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail),
            "errors": {},
        }
    return response
