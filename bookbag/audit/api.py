"""``GET /api/v1/audit/``: the audit events the caller may read, newest first, with filters."""

import django_filters
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from bookbag.api.filters import DateTimeFilter, IdFilter
from bookbag.api.pagination import IdCursorPagination
from bookbag.api.routers import router
from bookbag.tokens.models import Scope
from bookbag.tokens.permissions import HasScope

from .models import AuditEvent
from .selectors import audit_event_list


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id", "created_at", "actor", "actor_label", "via_token", "initiator", "channel", "action",
            "object_type", "object_id", "before", "after", "request_id", "previous_hash", "hash",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter(help_text="App label and model, e.g. reviews.queue.")
    object_id = django_filters.CharFilter()
    actor = django_filters.CharFilter(field_name="actor__username", help_text="Username of the actor.")
    actor_id = IdFilter(help_text="User id of the actor.")
    action = django_filters.CharFilter(help_text="e.g. queue.update.")
    channel = django_filters.ChoiceFilter(choices=AuditEvent.Channel.choices)
    request_id = django_filters.CharFilter()
    created_after = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time."
    )
    created_before = DateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this ISO 8601 time."
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit events: all for superusers, those of the queues they manage for managers, none for reviewers."""

    # The schema generator reads the model from here; requests go through get_queryset.
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": Scope.READ}
    filterset_class = AuditEventFilter
    # Chain order, newest first.
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return audit_event_list(user=self.request.user)


router.register("audit", AuditEventViewSet, basename="audit-event")
