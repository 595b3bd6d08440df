import logging

from django.utils import timezone
from rest_framework import authentication, exceptions

from bookbag.audit.context import set_token

from .models import ApiToken
from .services import token_digest

logger = logging.getLogger(__name__)


class ScopedTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``; ``request.auth`` is the ApiToken with its scopes."""

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            # The key is a secret even when it is wrong, so only the token's id, if any, is logged.
            logger.warning("token.auth_failed", extra={"token_id": token.pk if token else None})
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        set_token(token.prefix)
        return token.user, token
