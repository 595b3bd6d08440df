"""Rubric admin: managers edit a rubric and its criteria in one page, saved by the rubric services."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse

from bookbag.admin_site import ScopedModelAdmin
from reviews.access import is_manager, rubrics_visible

from .models import Criterion, Rubric
from .services import CRITERION_FIELDS, rubric_create, rubric_is_frozen, rubric_update


class RubricForm(forms.ModelForm):
    class Meta:
        model = Rubric
        fields = ("name", "slug", "guidelines")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if self.instance.pk is None and Rubric.objects.filter(slug=slug).exists():
            raise ValidationError(f"A rubric with slug “{slug}” exists already; edit it to make a new version.")
        return slug


class CriterionForm(forms.ModelForm):
    class Meta:
        model = Criterion
        fields = CRITERION_FIELDS + ("position",)

    def clean_options(self) -> list:
        # An emptied options box means no options, which only choice criteria need.
        return self.cleaned_data["options"] or []


class CriterionFormSet(BaseInlineFormSet):
    """Criterion rows. Django's formset check of the (rubric, key) constraint rejects duplicate keys."""

    def criterion_specs(self) -> list[dict[str, Any]]:
        """Return the kept criteria as service arguments, ordered by position and then by row."""
        rows = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            rows.append((data.get("position") or 0, index, {field: data[field] for field in CRITERION_FIELDS}))
        return [spec for _position, _index, spec in sorted(rows, key=lambda row: row[:2])]


class CriterionInline(admin.TabularInline):
    model = Criterion
    form = CriterionForm
    formset = CriterionFormSet
    fields = ("position", "key", "label", "kind", "required", "min_value", "max_value", "options", "weight", "guidance")
    extra = 1

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)


def latest_version(rubric: Rubric) -> Rubric:
    return Rubric.objects.filter(slug=rubric.slug).order_by("-version").first()


@admin.register(Rubric)
class RubricAdmin(ScopedModelAdmin):
    """Rubrics with their criteria inline.

    The rubric and its criteria are written by one service call, so the write
    happens in ``save_related``, which receives both the form and the criteria formset.
    """

    form = RubricForm
    inlines = [CriterionInline]
    list_display = ("name", "slug", "version", "criterion_count", "created_by", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(pk__in=rubrics_visible(request.user))
        return queryset.annotate(criterion_count=Count("criteria"))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "slug", "guidelines")
        return ("name", "slug", "version", "guidelines", "created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("slug", "version", "created_by", "created_at") if obj is not None else ()

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if obj is None else {}

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        # A superseded version stays as it was reviewed, so only the latest version takes edits.
        if obj is not None and latest_version(obj).pk != obj.pk:
            return False
        return is_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Rubrics are not deleted from the admin, because reviews and exports name their versions.
        return False

    @admin.display(description="criteria", ordering="criterion_count")
    def criterion_count(self, rubric: Rubric) -> int:
        return rubric.criterion_count

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["rubric_latest"] = latest_version(obj)
            context["rubric_frozen"] = rubric_is_frozen(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change) -> None:
        # Saved together with the criteria in save_related.
        pass

    def save_related(self, request, form, formsets, change) -> None:
        criteria_formset = next((fs for fs in formsets if isinstance(fs, CriterionFormSet)), None)
        criteria = None
        if criteria_formset is not None and (not change or criteria_formset.has_changed()):
            criteria = criteria_formset.criterion_specs()
        data = form.cleaned_data

        if not change:
            saved = rubric_create(
                actor=request.user, name=data["name"], slug=data["slug"], guidelines=data["guidelines"],
                criteria=criteria,
            )
        elif form.has_changed() or criteria is not None:
            saved = self._update(request, form, criteria)
        else:
            return
        self.use_saved_object(form.instance, saved)

    def _update(self, request, form, criteria: list[dict[str, Any]] | None) -> Rubric:
        current = Rubric.objects.get(pk=form.instance.pk)
        changed = {field: form.cleaned_data[field] for field in ("name", "guidelines") if field in form.changed_data}
        saved = rubric_update(actor=request.user, rubric=current, criteria=criteria, **changed)
        if saved.pk != current.pk:
            queues = ", ".join(saved.queues.order_by("name").values_list("name", flat=True)) or "none"
            self.message_user(
                request,
                f"Reviews reference version {current.version} of rubric “{current.slug}”, so your edit was saved "
                f"as version {saved.version}. Queues now on version {saved.version}: {queues}.",
                messages.WARNING,
            )
        return saved

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" not in request.POST:
            return response
        # After a new version, "Save and continue" opens it instead of the superseded version at request.path.
        url = reverse("admin:rubrics_rubric_change", args=[obj.pk], current_app=self.admin_site.name)
        context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(context, url))

    def construct_change_message(self, request, form, formsets, add=False):
        # The criteria formset is applied by the rubric services, not saved, so only the rubric form has a diff.
        return construct_change_message(form, [], add)
