"""One error body for the whole API: ``{"code", "message", "errors"}``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bookbag.errors import BookbagError


def _django_validation_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return dict(error.message_dict)
    return {"non_field_errors": list(error.messages)}


def exception_handler(exc, context):
    """Map service errors and DRF errors onto the one error body."""
    if isinstance(exc, BookbagError):
        return Response({"code": exc.code, "message": exc.message, "errors": {}}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        first = next(iter(errors.values()))[0]
        code = getattr(exc, "code", None) or "invalid"
        return Response({"code": code, "message": first, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        field, messages = next(iter(detail.items()))
        first = messages[0] if isinstance(messages, list) and messages else messages
        response.data = {"code": "invalid", "message": f"{field}: {first}", "errors": detail}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail),
            "errors": {},
        }
    return response
