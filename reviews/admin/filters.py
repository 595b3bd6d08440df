"""Changelist filters that list only the queues the current user may see."""

from django.contrib import admin

from ..access import is_admin, queues_visible


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


class ReviewItemQueueFilter(VisibleQueueFilter):
    """Filter items by queue. An admin also gets "No queue", because only admins see items kept without one."""

    NO_QUEUE = "none"

    def lookups(self, request, model_admin):
        queues = super().lookups(request, model_admin)
        return [(self.NO_QUEUE, "No queue"), *queues] if is_admin(request.user) else queues

    def queryset(self, request, queryset):
        if self.value() == self.NO_QUEUE:
            return queryset.filter(queue__isnull=True)
        return super().queryset(request, queryset)
