from rest_framework.permissions import BasePermission

from .models import ApiToken
from .services import EVERY_ROLE_SCOPES, scopes_allowed


def request_scopes(request) -> set[str]:
    """Return the scopes of the request: those its user's role allows now, narrowed to the token's for a token.

    A token keeps the scopes it was created with, so a user who loses the
    manager role loses the manager scopes of their tokens too.
    """
    if not (request.user and request.user.is_authenticated):
        return set()
    if isinstance(request.auth, ApiToken):
        token_scopes = set(request.auth.scopes)
        if token_scopes <= set(map(str, EVERY_ROLE_SCOPES)):
            # Every role allows these, so the role's permission queries can be skipped.
            return token_scopes
        return token_scopes & set(map(str, scopes_allowed(request.user)))
    return {str(scope) for scope in scopes_allowed(request.user)}


class HasScope(BasePermission):
    """Require the view's ``required_scopes`` mapping (action name → scope)."""

    message = "This token lacks the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        scope = view.required_scopes.get(getattr(view, "action", None) or request.method.lower())
        if scope is None:
            scope = view.required_scopes.get("default")
        if scope is None:
            return True
        scope = str(scope)
        if scope in request_scopes(request):
            return True

        if not isinstance(request.auth, ApiToken):
            self.message = (
                f"Your role lacks the {scope!r} scope this endpoint needs; "
                "only managers (the reviews.manage_workspace permission) hold it."
            )
        elif scope in map(str, scopes_allowed(request.user)):
            self.message = f"This token lacks the {scope!r} scope; create a token with --scope {scope}."
        elif scope in request.auth.scopes:
            self.message = (
                f"This token carries the {scope!r} scope, but its user's role no longer allows it; "
                "only managers (the reviews.manage_workspace permission) hold it."
            )
        else:
            self.message = (
                f"This token lacks the {scope!r} scope, and its user's role does not allow it; "
                "only managers (the reviews.manage_workspace permission) hold it."
            )
        return False
