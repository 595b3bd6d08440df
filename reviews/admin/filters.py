"""Changelist filters that list only the queues the current user may see."""

from django.contrib import admin

from ..access import queues_visible


class VisibleQueueFilter(admin.SimpleListFilter):
    """Filter by queue, offering only the user's queues so that no other queue's name shows."""

    title = "queue"
    parameter_name = "queue"
    queue_field = "queue"

    def lookups(self, request, model_admin):
        return [(str(queue.pk), queue.name) for queue in queues_visible(request.user).order_by("name")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{f"{self.queue_field}_id": self.value()})


class ItemQueueFilter(VisibleQueueFilter):
    queue_field = "item__queue"
