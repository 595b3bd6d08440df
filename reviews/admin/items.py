"""Review item admin: read-only, because items arrive through ingestion and change only by reviewing."""

import json

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.text import Truncator

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from exports.admin_actions import ExportPermissionMixin, export_items

from ..access import items_visible, reviews_visible
from ..models import Review, ReviewItem
from .conversation import chat_turn, chat_turns
from .filters import ReviewItemQueueFilter
from .item_actions import ItemActionPermissionMixin, assign_items, mark_gold, move_to_queue, send_back

EXCERPT_LENGTH = 80


class ReviewInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The item's reviews that the user may see: only their own in a blind queue they do not oversee."""

    model = Review
    fk_name = "item"
    fields = ("kind", "reviewer", "verdict", "corrected_response", "reason", "submitted_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=reviews_visible(request.user)).select_related("reviewer")

    def has_view_permission(self, request, obj=None) -> bool:
        return True


@admin.register(ReviewItem)
class ReviewItemAdmin(ExportPermissionMixin, ItemActionPermissionMixin, ReadOnlyAdminMixin, ScopedModelAdmin):
    inlines = [ReviewInline]
    actions = [export_items, assign_items, mark_gold, send_back, move_to_queue]
    list_display = ("id", "external_id", "source", "queue", "state", "model", "response_excerpt", "created_at")
    list_select_related = ("queue",)
    list_filter = ("state", ReviewItemQueueFilter)
    search_fields = ("external_id", "source", "model")
    fields = (
        "queue", "source", "external_id", "state", "model", "priority", "conversation_display",
        "metadata_display", "final_review", "created_at", "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request) & items_visible(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description="reply")
    def response_excerpt(self, item: ReviewItem) -> str:
        if not item.response_text and item.response.get("tool_calls"):
            names = ", ".join(call.get("function", {}).get("name", "?") for call in item.response["tool_calls"])
            return f"[tool call: {names}]"
        return Truncator(item.response_text).chars(EXCERPT_LENGTH)

    @admin.display(description="conversation")
    def conversation_display(self, item: ReviewItem) -> str:
        # The template autoescapes every message, so its output is safe to embed as it is.
        return render_to_string(
            "workspace/_conversation.html",
            {
                "turns": chat_turns(item.conversation),
                "reply": chat_turn(item.response),
                "reference": chat_turn(item.reference_response) if item.reference_response else None,
            },
        )

    @admin.display(description="metadata")
    def metadata_display(self, item: ReviewItem) -> str:
        return json.dumps(item.metadata, indent=2, ensure_ascii=False, sort_keys=True)
