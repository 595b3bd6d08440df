"""Audit history admin: read-only for everyone, superusers included, because events are append-only."""

import json

from django.contrib import admin

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from reviews.access import audit_events_visible, is_manager

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """The events a manager may read (see ``reviews.access.audit_events_visible``); every event for superusers."""

    list_display = ("created_at", "action", "object_type", "object_id", "actor_label", "channel", "request_id")
    list_filter = (
        "action", "object_type", "channel", ("actor", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("=object_id", "=request_id", "actor_label")
    date_hierarchy = "created_at"
    fields = (
        "created_at", "action", "object_type", "object_id", "actor", "actor_label", "via_token", "initiator",
        "channel", "request_id", "before_display", "after_display", "previous_hash", "hash",
    )
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def get_queryset(self, request):
        return audit_events_visible(request.user)

    @admin.display(description="before")
    def before_display(self, event: AuditEvent) -> str:
        return json.dumps(event.before, indent=2, ensure_ascii=False, sort_keys=True)

    @admin.display(description="after")
    def after_display(self, event: AuditEvent) -> str:
        return json.dumps(event.after, indent=2, ensure_ascii=False, sort_keys=True)
