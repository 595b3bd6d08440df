"""Log sign-ins, failed sign-ins and sign-outs by user id, never with the password or session key.

Django's ``authenticate``, ``login`` and ``logout`` send the
``user_login_failed``, ``user_logged_in`` and ``user_logged_out`` signals,
so one receiver each covers the admin and the browsable API alike.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

logger = logging.getLogger(__name__)


def _request_path(request) -> str | None:
    return getattr(request, "path", None)


def signed_in(sender, request, user, **kwargs) -> None:
    logger.info("auth.login", extra={"user_id": user.pk, "path": _request_path(request)})


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    """Log the failure with the id of the account named, or None when no account has that username."""
    User = get_user_model()
    username = credentials.get(User.USERNAME_FIELD)
    user_id = User._default_manager.filter(**{User.USERNAME_FIELD: username}).values_list("pk", flat=True).first()
    logger.warning("auth.login_failed", extra={"user_id": user_id, "path": _request_path(request)})


def signed_out(sender, request, user, **kwargs) -> None:
    logger.info("auth.logout", extra={"user_id": getattr(user, "pk", None)})


def connect() -> None:
    user_logged_in.connect(signed_in, dispatch_uid="bookbag.signin_log.signed_in")
    user_login_failed.connect(sign_in_failed, dispatch_uid="bookbag.signin_log.sign_in_failed")
    user_logged_out.connect(signed_out, dispatch_uid="bookbag.signin_log.signed_out")
