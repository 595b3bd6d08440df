"""Adjudication pages: leads and managers settle items whose reviewers disagreed."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from bookbag.errors import Conflict

from ..access import can_adjudicate_any, queues_overseen, scoped_get_or_404
from ..models import Review, ReviewItem
from ..services import review_adjudicate
from .forms import ReviewForm
from .reply_choice import reply_context
from .workspace import WorkspaceView


def items_awaiting_adjudication(user) -> QuerySet[ReviewItem]:
    return (
        ReviewItem.objects.filter(queue__in=queues_overseen(user), state=ReviewItem.State.ADJUDICATION)
        .select_related("queue")
        .annotate(review_count=Count("reviews", filter=Q(reviews__kind=Review.Kind.REVIEW)))
        .order_by("queue__name", "id")
    )


def _score_text(value: Any) -> str:
    if isinstance(value, bool):
        return "pass" if value else "fail"
    return str(value)


def review_cards(item: ReviewItem) -> list[dict[str, Any]]:
    """Return the item's reviews with their scores labelled by the criteria of the rubric version each used."""
    reviews = (
        item.reviews.filter(kind=Review.Kind.REVIEW)
        .select_related("reviewer", "rubric")
        .prefetch_related("rubric__criteria")
        .order_by("submitted_at", "id")
    )
    cards = []
    for review in reviews:
        criteria = {criterion.key: criterion for criterion in review.rubric.criteria.all()}
        scores = [
            {"label": criteria[key].label if key in criteria else key, "value": _score_text(value)}
            for key, value in review.scores.items()
        ]
        cards.append({"review": review, "scores": scores})
    return cards


class AdjudicationListView(WorkspaceView):
    """The disputed items of the queues that the user leads or manages. A user who leads no queue gets 403."""

    def dispatch(self, request, *args, **kwargs):
        # The list's URL is no secret, so it returns 403 like the manager-only admin lists. An item out of reach
        # returns 404 on AdjudicationView, like any object out of reach.
        if not can_adjudicate_any(request.user):
            raise PermissionDenied(
                "Only queue leads, managers and admins adjudicate items. Ask a manager to make you a lead."
            )
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(
            "workspace/adjudication_list.html",
            "Items awaiting adjudication",
            items=items_awaiting_adjudication(request.user),
            can_adjudicate=True,
        )


class AdjudicationView(WorkspaceView):
    """One disputed item: every review side by side, and the lead's decision form."""

    def dispatch(self, request, item_id: int):
        items = ReviewItem.objects.select_related("queue__rubric")
        overseen = items.filter(queue__in=queues_overseen(request.user))
        self.item = scoped_get_or_404(overseen, user=request.user, pk=item_id)
        if self.item.state != ReviewItem.State.ADJUDICATION:
            messages.info(request, f"Item {self.item} is {self.item.get_state_display().lower()}, not awaiting adjudication.")
            return redirect("admin:workspace_adjudication")
        return super().dispatch(request, item_id)

    def get(self, request, item_id: int):
        return self.show(self.decision_form())

    def post(self, request, item_id: int):
        form = self.decision_form(data=request.POST)
        if not form.is_valid():
            return self.show(form)
        try:
            review_adjudicate(item=self.item, lead=request.user, **form.submission())
        except ValidationError as error:
            form.add_service_error(error)
            return self.show(form)
        except Conflict as error:
            messages.warning(request, error.message)
            return redirect("admin:workspace_adjudication")

        messages.success(request, f"Saved the final decision on item {self.item}.")
        return redirect("admin:workspace_adjudication")

    def decision_form(self, data=None) -> ReviewForm:
        item = self.item
        return ReviewForm(data=data, rubric=item.queue.rubric, original_response=item.response_text, item=item)

    def show(self, form: ReviewForm) -> TemplateResponse:
        item = self.item
        return self.render(
            "workspace/adjudication.html",
            f"Adjudicate item {item}",
            item=item,
            queue=item.queue,
            rubric=item.queue.rubric,
            cards=review_cards(item),
            form=form,
            can_adjudicate=True,
            **reply_context(item, form),
        )
