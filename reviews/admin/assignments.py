"""Assignment and review admins: read-only records of who claimed and judged what."""

import json

from django.contrib import admin

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin

from ..access import assignments_visible, reviews_visible
from ..models import Assignment, Review
from .filters import ItemQueueFilter, VisibleQueueFilter


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("id", "item", "queue", "reviewer", "state", "claimed_at", "expires_at", "finished_at")
    list_select_related = ("item", "queue", "reviewer")
    list_filter = ("state", VisibleQueueFilter)
    search_fields = ("item__external_id", "reviewer__username")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=assignments_visible(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return True


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("id", "item", "queue", "reviewer", "kind", "verdict", "rubric", "time_spent_seconds", "submitted_at")
    list_select_related = ("item__queue", "reviewer", "rubric")
    list_filter = ("verdict", "kind", ItemQueueFilter)
    search_fields = ("item__external_id", "reviewer__username")
    fields = (
        "item", "assignment", "reviewer", "rubric", "kind", "verdict", "scores_display",
        "corrected_response", "reason", "time_spent_seconds", "submitted_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=reviews_visible(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description="queue", ordering="item__queue__name")
    def queue(self, review: Review) -> str:
        return review.item.queue.name

    @admin.display(description="scores")
    def scores_display(self, review: Review) -> str:
        return json.dumps(review.scores, indent=2, ensure_ascii=False, sort_keys=True)
