"""Queue admin: managers create and edit queues and their membership through the queue services."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import construct_change_message
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef
from django.forms.models import BaseInlineFormSet

from bookbag.admin_site import ScopedModelAdmin
from exports.admin_actions import ExportPermissionMixin, export_queues
from rubrics.models import Rubric

from ..access import can_manage, is_admin, is_manager, queues_visible
from ..models import Queue, QueueMembership
from ..services import membership_remove, membership_set, queue_create, queue_update
from ..services.queues import EDITABLE_FIELDS, QUEUE_FIELDS


ROUTING_RULES_HELP = (
    'Which items ingested without a queue this queue takes: a JSON object with any of "source" and "model" '
    '(a string or a list of strings) and "metadata" (keys and the value or values each accepts), such as '
    '{"source": "support-bot", "metadata": {"lang": ["en", "de"]}}. An item must match every given rule. '
    "Empty rules take nothing. The sampling rate then takes that share of the matching items."
)


class QueueForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = QUEUE_FIELDS
        help_texts = {"routing_rules": ROUTING_RULES_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limits_from_model()
        if "rubric" in self.fields:
            newer = Rubric.objects.filter(slug=OuterRef("slug"), version__gt=OuterRef("version"))
            self.fields["rubric"].queryset = Rubric.objects.exclude(Exists(newer))
            self.fields["rubric"].help_text = "Only the latest version of each rubric is offered."

    def _limits_from_model(self) -> None:
        """Set the number inputs' ``min`` and ``max`` to the model field's validator limits.

        Django 5.2's form field for a positive integer sets a minimum of 0 whatever the model's
        validators require, so the browser would offer values that saving rejects.
        """
        for name, field in self.fields.items():
            if not isinstance(field, forms.IntegerField | forms.FloatField):
                continue
            for validator in Queue._meta.get_field(name).validators:
                if isinstance(validator, MinValueValidator):
                    field.widget.attrs["min"] = validator.limit_value
                elif isinstance(validator, MaxValueValidator):
                    field.widget.attrs["max"] = validator.limit_value


class MembershipFormSet(BaseInlineFormSet):
    """Membership rows; ``actor`` is the user editing them, set by ``MembershipInline.get_formset``."""

    actor = None

    def clean(self) -> None:
        # Django's formset check of the (queue, user) constraint rejects duplicate rows.
        super().clean()
        if self.actor is not None and not is_admin(self.actor):
            self._check_actor_stays_manager()

    def _check_actor_stays_manager(self) -> None:
        """Reject a change that would remove or demote the editing manager, who would lose the queue."""
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data:
                continue
            was_actor = form.instance.pk is not None and form.initial.get("user") == self.actor.pk
            is_actor = data.get("user") == self.actor
            demoted = is_actor and data.get("role") != QueueMembership.Role.MANAGER
            if (was_actor and (data.get("DELETE") or not is_actor)) or (demoted and not data.get("DELETE")):
                raise ValidationError(
                    "You cannot remove or demote your own manager membership; another manager has to do it."
                )


class MembershipInline(admin.TabularInline):
    model = QueueMembership
    formset = MembershipFormSet
    fields = ("user", "role")
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = request.user
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return can_manage(request.user, obj) if obj is not None else is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_add_permission(request, obj)


@admin.register(Queue)
class QueueAdmin(ExportPermissionMixin, ScopedModelAdmin):
    form = QueueForm
    inlines = [MembershipInline]
    actions = [export_queues]
    list_display = ("name", "slug", "rubric", "reviews_per_item", "lease_minutes", "blind", "is_active")
    list_select_related = ("rubric",)
    list_filter = ("is_active", "blind")
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=queues_visible(request.user))

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if obj is None else {}

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_manage(request.user, obj) if obj is not None else is_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Queues are not deleted from the admin, because their items and reviews are training data.
        # Clearing is_active pauses a queue instead.
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if not change:
            options = {field: data[field] for field in EDITABLE_FIELDS - {"name", "rubric"} if field in data}
            queue = queue_create(actor=request.user, name=data["name"], slug=data["slug"], rubric=data["rubric"], **options)
            self.use_saved_object(obj, queue)
            return
        changes = {field: data[field] for field in form.changed_data if field in EDITABLE_FIELDS}
        if changes:
            queue_update(actor=request.user, queue=Queue.objects.get(pk=obj.pk), **changes)

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            if isinstance(formset, MembershipFormSet):
                self._save_memberships(request.user, form.instance, formset)

    def _save_memberships(self, actor, queue: Queue, formset: MembershipFormSet) -> None:
        """Apply the membership rows with ``membership_remove`` first, then ``membership_set``."""
        User = get_user_model()
        removed_user_ids, memberships_to_set = [], []
        for form in formset.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or not form.has_changed():
                continue
            if form.instance.pk is not None and (data.get("DELETE") or "user" in form.changed_data):
                removed_user_ids.append(form.initial["user"])
            if not data.get("DELETE"):
                memberships_to_set.append(data)
        for user in User.objects.filter(pk__in=removed_user_ids):
            membership_remove(actor=actor, queue=queue, user=user)
        for data in memberships_to_set:
            membership_set(actor=actor, queue=queue, user=data["user"], role=data["role"])

    def construct_change_message(self, request, form, formsets, add=False):
        # The membership formset is applied by services, not saved, so only the queue form has a diff.
        return construct_change_message(form, [], add)
