"""The intermediate page of admin actions that ask for input before they run on the selected rows."""

from django import forms
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse

# The page lists this many of the selected rows by name, then how many more there are.
SHOWN_ROWS = 20


def action_confirmation_page(
    modeladmin, request, queryset: QuerySet, *, action_name: str, title: str, summary: str, form: forms.Form,
    submit_label: str, confirm_field: str,
) -> TemplateResponse:
    """Render the form of action ``action_name`` for the rows of ``queryset``, which posts back to the action.

    The page carries the selection (or "all rows across pages") and a
    hidden ``confirm_field``, so the action can tell the confirmation from
    its first call.
    """
    select_across = request.POST.get("select_across") == "1"
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "summary": summary,
        "form": form,
        "shown_objects": list(queryset[:SHOWN_ROWS]),
        "more_count": max(queryset.count() - SHOWN_ROWS, 0),
        "select_across": select_across,
        "selected_ids": [] if select_across else list(queryset.values_list("pk", flat=True)),
        "action_name": action_name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirm_field": confirm_field,
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/action_confirm.html", context)
