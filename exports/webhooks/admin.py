"""Webhook admin: managers register their endpoints through the endpoint services and read every delivery attempt."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from bookbag.admin_site import ReadOnlyAdminMixin, ScopedModelAdmin
from reviews.access import can_change_webhook_endpoint, is_manager

from ..models import WebhookDelivery, WebhookEndpoint
from .endpoints import (
    EDITABLE_FIELDS,
    secret_validate,
    webhook_delivery_list,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_list,
    webhook_endpoint_update,
)

ERROR_EXCERPT_LENGTH = 80


class VisibleEndpointFilter(admin.SimpleListFilter):
    """Filter by endpoint, offering only the endpoints the user may see."""

    title = "endpoint"
    parameter_name = "endpoint"

    def lookups(self, request, model_admin):
        return [(str(endpoint.pk), endpoint.url) for endpoint in webhook_endpoint_list(user=request.user)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            return queryset.none()
        return queryset.filter(endpoint_id=int(self.value()))


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL", max_length=2000, assume_scheme="https",
        error_messages={"invalid": "Enter an http:// or https:// URL."},
    )
    events = forms.MultipleChoiceField(choices=WebhookEndpoint.Event.choices, widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(
        required=False, strip=False, max_length=128,
        help_text="Key of the HMAC-SHA256 signature. Leave it blank to have a new one generated.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "secret", "is_active")

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if secret:
            try:
                secret_validate(secret)
            except ValidationError as error:
                # The service keys its error by field, which a field's own clean method cannot raise.
                raise ValidationError(error.messages) from error
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedModelAdmin):
    """Managers see and change their own endpoints; superusers see every endpoint."""

    form = WebhookEndpointForm
    list_display = ("url", "events_display", "is_active", "owner", "deliveries_link", "created_at")
    list_select_related = ("owner",)
    list_filter = ("is_active",)

    def get_queryset(self, request):
        return webhook_endpoint_list(user=request.user).annotate(delivery_count=Count("deliveries"))

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_add_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_change_webhook_endpoint(request.user, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if not change:
            endpoint = webhook_endpoint_create(
                actor=request.user, url=data["url"], events=data["events"], secret=data["secret"],
                is_active=data["is_active"],
            )
            self.use_saved_object(obj, endpoint)
            return
        changes = {name: data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        if changes:
            webhook_endpoint_update(actor=request.user, endpoint=WebhookEndpoint.objects.get(pk=obj.pk), **changes)

    def delete_model(self, request, obj) -> None:
        webhook_endpoint_delete(actor=request.user, endpoint=obj)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            webhook_endpoint_delete(actor=request.user, endpoint=endpoint)

    @admin.display(description="events")
    def events_display(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.display(description="deliveries")
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:exports_webhookdelivery_changelist") + f"?endpoint={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, endpoint.delivery_count)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Every attempt to deliver an event, read-only, for the endpoints the user may see."""

    list_display = (
        "created_at", "event", "event_id", "endpoint", "job", "attempt", "succeeded", "status_code", "response_ms",
        "error_excerpt",
    )
    list_select_related = ("endpoint", "job")
    list_filter = ("succeeded", "event", VisibleEndpointFilter)
    search_fields = ("event_id",)
    fields = (
        "endpoint", "event", "event_id", "job", "attempt", "succeeded", "status_code", "response_ms", "error",
        "payload", "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return webhook_delivery_list(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    @admin.display(description="error")
    def error_excerpt(self, delivery: WebhookDelivery) -> str:
        return Truncator(delivery.error).chars(ERROR_EXCERPT_LENGTH)
