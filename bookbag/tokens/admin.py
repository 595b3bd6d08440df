"""API token admin: list tokens and revoke them. Keys are shown once at creation, digests never."""

from django.contrib import admin

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from reviews.access import can_use_admin, tokens_visible

from .models import ApiToken
from .services import token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Each user sees and revokes their own tokens; superusers see and revoke every token.

    Tokens are created with the ``create_token`` command, which prints the key.
    """

    list_display = ("prefix", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at", "active")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__username")
    fields = ("user", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=tokens_visible(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_revoke_permission(self, request) -> bool:
        return can_use_admin(request.user)

    @admin.display(description="active", boolean=True)
    def active(self, token: ApiToken) -> bool:
        return token.is_active

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            token_revoke(token=token, actor=request.user)
            revoked += 1
        skipped = queryset.count() - revoked
        noun = "token" if revoked == 1 else "tokens"
        message = f"Revoked {revoked} {noun}."
        if skipped:
            message += f" {skipped} of the selected tokens were revoked already."
        self.message_user(request, message)
