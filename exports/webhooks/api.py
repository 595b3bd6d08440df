"""API views for webhook endpoints; ``exports.api`` imports this module to register the routes.

``webhooks/`` lists, registers, changes and removes the manager's own
endpoints, and ``GET webhooks/{id}/deliveries/`` lists their delivery
attempts, newest first. Other managers' endpoints return 404.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated

from bookbag.api.filters import BooleanFilter
from bookbag.api.routers import router
from bookbag.api.serializers import RejectUnknownFieldsMixin
from bookbag.api.scoping import ScopedObjectMixin
from bookbag.errors import PermissionDenied
from bookbag.tokens.permissions import HasScope
from reviews.access import is_manager

from ..models import WebhookDelivery, WebhookEndpoint
from .endpoints import (
    webhook_delivery_list,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_list,
    webhook_endpoint_update,
)


class WebhookEndpointSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEndpoint.Event.choices), allow_empty=False,
        help_text="Event types to send: export.succeeded, export.failed.",
    )
    secret = serializers.CharField(
        required=False, allow_blank=True, max_length=128, trim_whitespace=False,
        help_text="Key of the HMAC-SHA256 signature; leave it out on create to have one generated.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "secret", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event_id", "event", "job", "attempt", "succeeded", "status_code", "response_ms", "error",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointFilter(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = WebhookEndpoint
        fields = ["is_active"]


class WebhookDeliveryFilter(django_filters.FilterSet):
    """The delivery list's query parameters, the same as the admin's list filters."""

    succeeded = BooleanFilter()
    event = django_filters.ChoiceFilter(choices=WebhookEndpoint.Event.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["succeeded", "event"]


class WebhookEndpointViewSet(ScopedObjectMixin, viewsets.ModelViewSet):
    """Webhook endpoints of the authenticated manager."""

    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    lookup_value_regex = r"\d+"
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"default": "export"}
    filterset_class = WebhookEndpointFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        if not is_manager(self.request.user):
            raise PermissionDenied("Only managers see webhook endpoints.")
        return webhook_endpoint_list(user=self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.instance = webhook_endpoint_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = webhook_endpoint_update(
            actor=self.request.user, endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance) -> None:
        webhook_endpoint_delete(actor=self.request.user, endpoint=instance)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    # This queryset only gives the schema generator the model that the delivery filters apply to.
    @action(detail=True, methods=["get"], filterset_class=WebhookDeliveryFilter, queryset=WebhookDelivery.objects.none())
    def deliveries(self, request, pk=None):
        # Not get_object(), which would run the delivery filters on the endpoints.
        endpoint = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(request, endpoint)
        attempts = self.filter_queryset(webhook_delivery_list(user=request.user).filter(endpoint=endpoint))
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
