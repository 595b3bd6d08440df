"""API token admin: create, list and revoke tokens. Keys are shown once at creation, digests never."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from reviews.access import can_use_admin, tokens_visible

from .forms import ApiTokenCreateForm
from .models import ApiToken
from .services import token_create, token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Each user creates, sees and revokes their own tokens; superusers do so for every user.

    The add page calls ``token_create`` and returns the key in that response
    only: it is not stored, logged or put in a message. Tokens cannot be
    changed; revoke one and create another. The ``create_token`` command
    creates tokens too.
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

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenCreateForm(request.POST if request.method == "POST" else None, requester=request.user)
        if form.is_bound and form.is_valid():
            try:
                token, key = token_create(
                    user=form.cleaned_data["user"], scopes=form.cleaned_data["scopes"] or None,
                    name=form.cleaned_data["name"], actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self._render(request, "created.html", "API token created", token=token, key=key)
        return self._render(request, "add.html", "Create API token", form=form)

    def _render(self, request, template: str, title: str, **context) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context}
        return TemplateResponse(request, f"admin/tokens/apitoken/{template}", context)

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
            verb = "was" if skipped == 1 else "were"
            message += f" {skipped} of the selected tokens {verb} revoked already."
        self.message_user(request, message)
