"""Admin actions that request an export from the queue and item changelists.

Each action first shows a page to choose the kind and format, then calls
``export_request`` and opens the new job. Only managers get the actions, and
the service still checks that every queue is one the manager manages.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from bookbag.admin_confirmation import action_confirmation_page
from bookbag.errors import BookbagError
from reviews.access import is_manager

from .models import ExportJob
from .services import export_request

CONFIRM_FIELD = "export_confirm"


class ExportRequestForm(forms.Form):
    kind = forms.ChoiceField(initial=ExportJob.Kind.BOTH, help_text="Which data files the bundle holds.")
    format = forms.ChoiceField(initial=ExportJob.Format.TRL, help_text="Row format of the data files.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The choices come from the format registry, so they are read when the form is built.
        self.fields["kind"].choices = ExportJob._meta.get_field("kind").choices
        self.fields["format"].choices = ExportJob._meta.get_field("format").choices


class ExportPermissionMixin:
    """Offer the export actions to managers only."""

    def has_export_permission(self, request) -> bool:
        return is_manager(request.user)


@admin.action(description="Export reviewed items", permissions=["export"])
def export_queues(modeladmin, request, queryset: QuerySet):
    """Request an export of the selected queues' reviewed items, after a page that asks for kind and format."""
    slugs = sorted(queryset.values_list("slug", flat=True))
    summary = f"Export the reviewed items of {len(slugs)} queue(s). Items without a final review are left out."
    return _export_action(modeladmin, request, queryset, action_name="export_queues", filters={"queues": slugs},
                          summary=summary)


@admin.action(description="Export reviewed items", permissions=["export"])
def export_items(modeladmin, request, queryset: QuerySet):
    """Request an export of exactly those selected items that have a final review, after the same page."""
    unqueued = queryset.filter(queue__isnull=True).count()
    if unqueued:
        modeladmin.message_user(
            request,
            f"{unqueued} selected item(s) are kept without a queue and have no reviews to export; "
            "deselect them, or move them into a queue with \"Move to queue\" and review them first.",
            messages.ERROR,
        )
        return None
    item_ids = sorted(queryset.values_list("pk", flat=True))
    slugs = sorted(set(queryset.values_list("queue__slug", flat=True)))
    reviewed = queryset.filter(final_review__isnull=False).count()
    summary = (
        f"Export {len(item_ids)} selected item(s); {reviewed} of them have a final review and go into the bundle, "
        "the others are left out."
    )
    filters = {"queues": slugs, "item_ids": item_ids}
    return _export_action(modeladmin, request, queryset, action_name="export_items", filters=filters,
                          summary=summary)


def _export_action(modeladmin, request, queryset: QuerySet, *, action_name: str, filters: dict, summary: str):
    if request.POST.get(CONFIRM_FIELD):
        form = ExportRequestForm(request.POST)
        if form.is_valid():
            return _export_request(modeladmin, request, filters=filters, **form.cleaned_data)
    else:
        form = ExportRequestForm()
    return action_confirmation_page(
        modeladmin, request, queryset, action_name=action_name, title="Export reviewed items", summary=summary,
        form=form, submit_label="Request export", confirm_field=CONFIRM_FIELD,
    )


def _export_request(modeladmin, request, *, filters: dict, kind: str, format: str):
    try:
        job = export_request(requester=request.user, kind=kind, format=format, filters=filters)
    except (BookbagError, ValidationError) as error:
        modeladmin.message_user(request, f"The export was not requested: {_error_text(error)}", messages.ERROR)
        return None
    url = reverse("admin:exports_exportjob_change", args=[job.pk])
    modeladmin.message_user(
        request, format_html('Export {} requested; <a href="{}">follow its progress</a>.', job.pk, url),
        messages.SUCCESS,
    )
    return HttpResponseRedirect(url)


def _error_text(error: Exception) -> str:
    if isinstance(error, BookbagError):
        return error.message
    return " ".join(error.messages)
