"""Bookbag's admin site, and the model admin base class that scopes objects per user."""

import json

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.utils.functional import SimpleLazyObject

from bookbag.admin_pagination import LimitedCountPaginator

# The history page lists this many of an object's latest audit events; the audit event list has the rest.
HISTORY_EVENT_LIMIT = 200


def _pretty_json(value) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


class BookbagAdminSite(admin.AdminSite):
    """The admin every role signs in to, with the reviewer workspace under ``workspace/``.

    Any active staff user may enter. What each one sees inside is decided per
    model admin by ``reviews.access``, not by Django's model permissions.
    """

    site_header = "Bookbag"
    site_title = "Bookbag"
    index_title = "Administration"
    # Bookbag has no public site, so the admin header shows no "View site" link.
    site_url = None

    def has_permission(self, request) -> bool:
        # Imported here because reviews.access imports models that import this module's app.
        from reviews.access import can_use_admin

        return can_use_admin(request.user)

    def each_context(self, request) -> dict:
        # Imported here because reviews.access imports models that import this module's app.
        from reviews.access import can_adjudicate_any

        context = super().each_context(request)
        # The navigation of every page reads this. It is lazy, so a view that passes its own value saves the query.
        context["can_adjudicate"] = SimpleLazyObject(lambda: can_adjudicate_any(request.user))
        return context

    def index(self, request, extra_context=None):
        # Imported here because reviews.admin imports this module.
        from reviews.admin.dashboard import dashboard_context

        # Managers see their queues' dashboard above the usual index; everyone else gets the usual index.
        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

    def get_urls(self):
        # Imported here because reviews.admin imports this module.
        from reviews.admin.urls import workspace_urlpatterns

        return workspace_urlpatterns(self) + super().get_urls()


class ScopedObjectAdminMixin:
    """Raise Http404 for an object outside ``get_queryset`` or one that the user may not view.

    Django's admin redirects to the index with a message for a missing
    object, and returns 403 for one the user may not view. A 404 for both
    hides whether an object out of the user's reach exists.
    """

    def get_object(self, request, object_id, from_field=None):
        # Imported here because reviews.access imports models that import this module's app.
        from reviews.access import denial_log

        obj = super().get_object(request, object_id, from_field)
        if obj is not None and (self.has_view_permission(request, obj) or self.has_change_permission(request, obj)):
            return obj
        if from_field is None:
            denial_log(user=request.user, model=self.model, object_id=unquote(object_id), channel="admin")
        raise Http404(f"{self.opts.verbose_name.capitalize()} {object_id!r} not found.")


class ScopedModelAdmin(ScopedObjectAdminMixin, admin.ModelAdmin):
    """A model admin that returns 404 for objects outside the user's scope.

    The history page also lists the object's audit events that the user
    may read. Changelists count at most LimitedCountPaginator's limit of
    rows.
    """

    paginator = LimitedCountPaginator
    show_full_result_count = False

    def has_module_permission(self, request) -> bool:
        # Django asks for a model permission here, which Bookbag's roles do not grant.
        return self.has_view_permission(request)

    def use_saved_object(self, obj, saved) -> None:
        """Load the row a service saved into the admin's ``obj``, so the admin's log and redirect use it.

        Services build and return their own instances, while the admin keeps
        working on the form's instance after ``save_model``.
        """
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def history_view(self, request, object_id, extra_context=None):
        # The parent view checks access first, and its TemplateResponse renders only after this returns.
        # Imported here because reviews.admin imports this module.
        from reviews.access import audit_events_visible

        response = super().history_view(request, object_id, extra_context)
        events = audit_events_visible(request.user).filter(
            object_type=self.opts.label_lower, object_id=unquote(object_id)
        )
        response.context_data["audit_events"] = [
            {"event": event, "before": _pretty_json(event.before), "after": _pretty_json(event.after)}
            for event in events.order_by("-created_at", "-id")[:HISTORY_EVENT_LIMIT]
        ]
        response.context_data["audit_events_truncated"] = events.count() > HISTORY_EVENT_LIMIT
        return response


class ReadOnlyAdminMixin:
    """Let nobody add, change or delete through this admin; writes go through services elsewhere."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
