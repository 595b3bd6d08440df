import hashlib
import logging
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bookbag.audit.services import audit_record

from .models import ApiToken, Scope

logger = logging.getLogger(__name__)

PREFIX_LENGTH = 8
# The scopes every active user's role allows; the others need the manager role.
EVERY_ROLE_SCOPES = (Scope.REVIEW, Scope.READ)


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scopes_allowed(user) -> list[str]:
    """Return the scopes that ``user``'s role allows, in a fixed order."""
    from reviews.access import is_manager

    if is_manager(user):
        return [Scope.INGEST, Scope.REVIEW, Scope.EXPORT, Scope.READ, Scope.MANAGE]
    return list(EVERY_ROLE_SCOPES)


@transaction.atomic
def token_create(*, user, scopes: Iterable[str] | None = None, name: str = "", actor=None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its key, which is shown only here.

    Raises ValidationError when the user is inactive or a scope is unknown or
    beyond the user's role.
    """
    if not user.is_active:
        raise ValidationError(
            f"User {user.get_username()!r} is inactive; activate the account before creating a token.",
            code="user_inactive",
        )
    allowed = [str(scope) for scope in scopes_allowed(user)]
    requested = list(dict.fromkeys(scopes)) if scopes else allowed
    unknown = [scope for scope in requested if scope not in Scope.values]
    if unknown:
        raise ValidationError(
            f"Unknown scope {unknown[0]!r}; choose from {', '.join(Scope.values)}.", code="unknown_scope"
        )
    beyond = [scope for scope in requested if scope not in allowed]
    if beyond:
        raise ValidationError(
            f"User {user.get_username()!r} may not hold scope {beyond[0]!r}; their role allows {', '.join(allowed)}.",
            code="scope_not_allowed",
        )

    key = secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=key[:PREFIX_LENGTH], digest=token_digest(key), scopes=requested)
    token.full_clean()
    token.save()

    audit_record(actor=actor, action="token.create", instance=token, after={"user": user.pk, "scopes": requested})
    logger.info("token.created", extra={
        "token_id": token.pk, "token_prefix": token.prefix, "user_id": user.pk,
        "actor_id": getattr(actor, "pk", None), "scopes": requested,
    })
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", instance=token, after={"revoked_at": token.revoked_at.isoformat()})
        logger.info("token.revoked", extra={
            "token_id": token.pk, "token_prefix": token.prefix, "user_id": token.user_id,
            "actor_id": getattr(actor, "pk", None),
        })
    return token
