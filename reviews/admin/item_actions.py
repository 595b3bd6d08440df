"""Actions on the review item changelist: assign to a reviewer, mark as gold, send back, move to a queue.

Each action calls one service and reports counts with ``message_user``. The
assign, gold and move actions first show a page that requests the reviewer,
the known answer or the queue. Only managers get the first three, and the
services still check that the manager manages every selected item's queue.
Only admins get "Move to queue", because only they see items kept without a
queue.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.response import TemplateResponse

from bookbag.admin_confirmation import action_confirmation_page
from bookbag.errors import BookbagError

from ..access import can_move_items, is_manager
from ..models import Queue, Review
from ..services import assignment_assign, item_mark_gold, items_move, items_rereview

CONFIRM_FIELD = "action_confirm"


class ItemActionPermissionMixin:
    """Offer the item management actions to managers only, and "Move to queue" to admins only."""

    def has_manage_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_move_permission(self, request) -> bool:
        return can_move_items(request.user)


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(queryset=None, help_text="A member of the items' queue.")

    def __init__(self, *args, queue: Queue, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reviewer"]
        field.queryset = get_user_model().objects.filter(queue_memberships__queue=queue).order_by("username")
        field.label_from_instance = lambda user: user.get_username()
        field.error_messages["invalid_choice"] = (
            f"That user is not a member of queue {queue.slug!r}; choose one of its members, or add them to it first."
        )


class GoldForm(forms.Form):
    verdict = forms.ChoiceField(choices=Review.Verdict.choices, help_text="The verdict reviewers should reach.")
    corrected_response = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The known rewrite; required for needs fix, ignored otherwise.",
    )
    preferred = forms.ChoiceField(
        required=False, choices=[("", "—"), *Review.Preference.choices],
        help_text="On pairwise items, the better candidate; leave empty for single replies.",
    )

    def add_service_error(self, error: ValidationError) -> None:
        """Show a ValidationError of ``item_mark_gold`` next to its field, or above the form when no field matches."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for model_field, field_errors in error.error_dict.items():
            field = model_field.removeprefix("gold_")
            self.add_error(field if field in self.fields else None, field_errors)


class MoveForm(forms.Form):
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.filter(is_active=True).order_by("name"),
        help_text="An active queue; its reviewers can claim the items once they are moved.",
    )


def _error_text(error: Exception) -> str:
    if isinstance(error, BookbagError):
        return error.message
    return " ".join(error.messages)


def _confirmation_page(modeladmin, request, queryset: QuerySet, *, action_name: str, title: str, summary: str,
                       form: forms.Form) -> TemplateResponse:
    return action_confirmation_page(
        modeladmin, request, queryset, action_name=action_name, title=title, summary=summary, form=form,
        submit_label=title, confirm_field=CONFIRM_FIELD,
    )


@admin.action(description="Assign to a reviewer", permissions=["manage"])
def assign_items(modeladmin, request, queryset: QuerySet):
    """Reserve the selected items for one member of their queue, after a page that requests the reviewer."""
    queue_ids = set(queryset.values_list("queue_id", flat=True))
    if None in queue_ids:
        modeladmin.message_user(
            request,
            "The selected items have no queue; move them to a queue with \"Move to queue\" first, then assign them.",
            messages.ERROR,
        )
        return None
    if len(queue_ids) != 1:
        modeladmin.message_user(
            request,
            f"The selected items belong to {len(queue_ids)} queues; select items of one queue to assign them together.",
            messages.ERROR,
        )
        return None
    queue = Queue.objects.get(pk=queue_ids.pop())
    form = AssignForm(request.POST if request.POST.get(CONFIRM_FIELD) else None, queue=queue)
    if not form.is_valid():
        summary = f"Reserve the selected items of queue {queue.name} for one of its members, who gets them first."
        return _confirmation_page(modeladmin, request, queryset, action_name="assign_items",
                                  title="Assign to a reviewer", summary=summary, form=form)

    reviewer = form.cleaned_data["reviewer"]
    try:
        result = assignment_assign(actor=request.user, items=list(queryset), reviewer=reviewer)
    except (BookbagError, ValidationError) as error:
        modeladmin.message_user(request, f"Nothing was assigned: {_error_text(error)}", messages.ERROR)
        return None
    modeladmin.message_user(
        request, f"Assigned {len(result.assigned)} item(s) to {reviewer.get_username()}.", messages.SUCCESS
    )
    _report_skipped(modeladmin, request, result.skipped)
    return None


def _report_skipped(modeladmin, request, skipped: dict[int, str]) -> None:
    """Warn about the items an action skipped, each with its reason, in item id order."""
    if skipped:
        reasons = "; ".join(skipped[item_id] for item_id in sorted(skipped))
        modeladmin.message_user(request, f"Skipped {len(skipped)} item(s): {reasons}.", messages.WARNING)


@admin.action(description="Mark as gold", permissions=["manage"])
def mark_gold(modeladmin, request, queryset: QuerySet):
    """Store a known answer for the selected items, after a page that requests it."""
    summary = "Store the known answer of the selected items; reviewers are scored against it without knowing."
    form = GoldForm(request.POST if request.POST.get(CONFIRM_FIELD) else None)
    if not form.is_valid():
        return _confirmation_page(modeladmin, request, queryset, action_name="mark_gold", title="Mark as gold",
                                  summary=summary, form=form)

    try:
        changed = item_mark_gold(actor=request.user, items=list(queryset), **form.cleaned_data)
    except ValidationError as error:
        # The answer is invalid for the selected items, so the form is shown again with the values entered.
        form.add_service_error(error)
        return _confirmation_page(modeladmin, request, queryset, action_name="mark_gold", title="Mark as gold",
                                  summary=summary, form=form)
    except BookbagError as error:
        modeladmin.message_user(request, f"No item was marked gold: {error.message}", messages.ERROR)
        return None
    unchanged = queryset.count() - changed
    modeladmin.message_user(
        request, f"Marked {changed} item(s) as gold; {unchanged} already had this answer.", messages.SUCCESS
    )
    return None


@admin.action(description="Send back for re-review", permissions=["manage"])
def send_back(modeladmin, request, queryset: QuerySet):
    """Return the selected reviewed items to the pool and leave items still open alone."""
    try:
        count = items_rereview(actor=request.user, items=list(queryset))
    except (BookbagError, ValidationError) as error:
        modeladmin.message_user(request, f"No item was sent back: {_error_text(error)}", messages.ERROR)
        return None
    left = queryset.count() - count
    modeladmin.message_user(
        request, f"Sent {count} item(s) back for re-review; {left} not yet reviewed were left alone.",
        messages.SUCCESS,
    )
    return None


@admin.action(description="Move to queue", permissions=["move"])
def move_to_queue(modeladmin, request, queryset: QuerySet):
    """Move the selected items kept without a queue into one queue, after a page that requests the queue."""
    form = MoveForm(request.POST if request.POST.get(CONFIRM_FIELD) else None)
    if not form.is_valid():
        summary = (
            "Move the selected items kept without a queue into a queue, where its reviewers can claim them. "
            "Items already in a queue or with reviews are skipped."
        )
        return _confirmation_page(modeladmin, request, queryset, action_name="move_to_queue", title="Move to queue",
                                  summary=summary, form=form)

    queue = form.cleaned_data["queue"]
    try:
        result = items_move(actor=request.user, items=list(queryset), queue=queue)
    except (BookbagError, ValidationError) as error:
        modeladmin.message_user(request, f"No item was moved: {_error_text(error)}", messages.ERROR)
        return None
    modeladmin.message_user(request, f"Moved {result.moved} item(s) to queue {queue.name}.", messages.SUCCESS)
    _report_skipped(modeladmin, request, result.skipped)
    return None
