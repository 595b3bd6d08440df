"""One error body for the whole API: ``{"code", "message", "errors"}``.

DRF views send every exception through ``exception_handler``. Errors raised
outside a view (an unknown URL, a crash in middleware) reach Django's
``handler404`` and ``handler500``, which ``bookbag.urls`` points at
``not_found`` and ``server_error`` so that API paths get the same body.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from bookbag.errors import BookbagError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
SERVER_ERROR_MESSAGE = (
    "The server failed to handle this request; nothing was changed. "
    "Retry later, and report the time of the request if the error persists."
)
INTEGRITY_MESSAGE = (
    "The request clashes with a row another request stored at the same time (a unique value is taken); "
    "read the current state and retry."
)


def error_body(code: str, message: str, errors: dict | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or {}}


def _django_validation_errors(error: DjangoValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return dict(error.message_dict)
    return {"non_field_errors": list(error.messages)}


def field_errors(detail, path: str = "") -> dict[str, list[str]]:
    """Flatten a DRF error detail into messages per field path, such as ``criteria[1].key`` or ``scores.tone``.

    A nested object's ``non_field_errors`` go under the object's own path.
    Valid entries of a list, which DRF reports as empty objects, add nothing.
    """
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):
                child_path = f"{path}[{key}]"
            elif path and key == api_settings.NON_FIELD_ERRORS_KEY:
                child_path = path
            else:
                child_path = f"{path}.{key}" if path else str(key)
            for field, messages in field_errors(value, child_path).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                nested = field_errors(value, f"{path}[{index}]")
            else:
                nested = {path: [str(value)]}
            for field, messages in nested.items():
                flat.setdefault(field, []).extend(messages)
        return flat
    return {path: [str(detail)]}


def errors_summary(errors: dict[str, list[str]], *, name_field: bool = True) -> str:
    """Return one sentence naming the first error of ``errors`` and counting the others.

    With ``name_field``, the sentence starts with the field path, unless the
    error belongs to no field (``non_field_errors``).
    """
    field, messages = next(((field, messages) for field, messages in errors.items() if messages), ("", []))
    first = messages[0] if messages else "Invalid input."
    if name_field and field not in ("", api_settings.NON_FIELD_ERRORS_KEY):
        first = f"{field}: {first}"
    more = sum(len(messages) for messages in errors.values()) - 1
    if more < 1:
        return first
    counted = "1 more error is" if more == 1 else f"{more} more errors are"
    return f"{first.removesuffix('.')} ({counted} listed in errors)."


def _api_exception_message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.NotAuthenticated):
        return f"{exc.detail} Send the header 'Authorization: Token <key>'; create_token prints a key."
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return f"{exc.detail} Send a JSON body with the header 'Content-Type: application/json'."
    if isinstance(exc, exceptions.Throttled):
        return (
            f"Too many requests to this endpoint; retry after {exc.wait or 1:.0f} seconds "
            "(the Retry-After header has the same value)."
        )
    return str(exc.detail)


NOT_FOUND_MESSAGE = "Not found among the objects you can see; check the id, or list the collection to find it."


def _not_found_message(exc: Http404, context) -> str:
    # get_object_or_404 raises "No ExportJob matches the given query.", which names a class and no next step.
    message = str(exc.args[0]) if exc.args else ""
    if message and not message.endswith("matches the given query."):
        return message
    # The message names no id, so an object outside the caller's scope gets the same body as a missing one.
    return NOT_FOUND_MESSAGE


def _unexpected_error(exc: Exception, context) -> Response | None:
    """Return 409 for an IntegrityError and 500 for any other unexpected exception, never with its text.

    With DEBUG on, other exceptions return None, so that DRF re-raises them
    and Django shows its debug page with the traceback.
    """
    if settings.DEBUG and not isinstance(exc, IntegrityError):
        return None
    set_rollback()
    view = context.get("view")
    extra = {"view": type(view).__name__ if view else None}
    if isinstance(exc, IntegrityError):
        logger.warning("api.integrity_error", extra=extra, exc_info=exc)
        return Response(error_body("conflict", INTEGRITY_MESSAGE), status=status.HTTP_409_CONFLICT)
    logger.error("api.server_error", extra=extra, exc_info=exc)
    return Response(error_body("server_error", SERVER_ERROR_MESSAGE), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def exception_handler(exc, context):
    """Map service errors, DRF errors and unexpected exceptions onto the one error body."""
    if isinstance(exc, BookbagError):
        set_rollback()
        return Response(error_body(exc.code, exc.message), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        errors = _django_validation_errors(exc)
        # Service messages name their field themselves, so the summary does not repeat it.
        message = errors_summary(errors, name_field=False)
        code = getattr(exc, "code", None) or "invalid"
        return Response(error_body(code, message, errors), status=status.HTTP_400_BAD_REQUEST)

    # DRF also handles Django's Http404 and PermissionDenied. Converting them here gives them the same body.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_not_found_message(exc, context))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)

    response = drf_exception_handler(exc, context)
    if response is None:
        return _unexpected_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        detail = response.data
        if not isinstance(detail, dict):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        errors = field_errors(detail)
        response.data = error_body("invalid", errors_summary(errors), errors)
    else:
        codes = exc.get_codes()
        response.data = error_body(codes if isinstance(codes, str) else "error", _api_exception_message(exc))
    return response


def not_found(request, exception=None):
    """Return the error body for an unknown URL under ``/api/``, and Django's 404 page for any other."""
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception)
    message = f"No API endpoint at {request.path}; the schema at /api/schema/ lists every endpoint."
    return JsonResponse(error_body("not_found", message), status=status.HTTP_404_NOT_FOUND)


def server_error(request):
    """Return the error body for a crash outside a DRF view under ``/api/``, and Django's 500 page for any other."""
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", SERVER_ERROR_MESSAGE), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
