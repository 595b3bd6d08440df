"""The reviewer's own history: every review they submitted in the queues they still belong to, newest first,
and editing it within the edit window."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from bookbag.errors import Conflict, NotFound

from ..access import queues_visible, reviews_visible
from ..models import Review
from ..services import review_edit_deadline, review_revise, review_revise_problem
from .forms import SCORE_PREFIX, ReviewForm
from .reply_choice import reply_context
from .workspace import WorkspaceView

PAGE_SIZE = 50


def own_reviews(user) -> QuerySet[Review]:
    return (
        reviews_visible(user)
        .filter(reviewer=user, kind=Review.Kind.REVIEW)
        .select_related("item__queue", "rubric", "assignment")
        .order_by("-submitted_at", "-id")
    )


def page_number(raw: str | None) -> int:
    """Return the requested page, 1 for a missing or invalid value."""
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


class HistoryView(WorkspaceView):
    """One page of the reviewer's reviews.

    The page reads one row past its end to know whether a next page exists,
    so it never counts the reviewer's whole history.
    """

    def get(self, request) -> TemplateResponse:
        page = page_number(request.GET.get("page"))
        start = (page - 1) * PAGE_SIZE
        rows = list(own_reviews(request.user)[start : start + PAGE_SIZE + 1])
        now = timezone.now()
        for review in rows:
            review.editable = review_revise_problem(review, now=now) is None
            review.edit_deadline = review_edit_deadline(review)
        return self.render(
            "workspace/history.html",
            "Your review history",
            reviews=rows[:PAGE_SIZE],
            page=page,
            previous_page=page - 1 if page > 1 else None,
            next_page=page + 1 if len(rows) > PAGE_SIZE else None,
        )


def review_initial(review: Review) -> dict[str, Any]:
    """Return the review form's initial values taken from ``review``."""
    initial = {
        "verdict": review.verdict,
        "corrected_response": review.corrected_response or review.original_text,
        "reason": review.reason,
        "time_spent_seconds": review.time_spent_seconds,
        "preferred": review.preferred,
    }
    if review.turn_index is not None:
        initial["turn_index"] = review.turn_index
    for key, value in review.scores.items():
        if isinstance(value, bool):
            value = "pass" if value else "fail"
        initial[SCORE_PREFIX + key] = value
    return initial


class ReviewEditView(WorkspaceView):
    """Revise one of your own reviews while its queue's edit window is open.

    The form starts from the current review. Saving calls ``review_revise``,
    which keeps the earlier revision. The page shows only the item and your own
    review, so a blind queue stays blind.
    """

    def dispatch(self, request, review_id: int):
        reviews = own_reviews(request.user).select_related("item__queue__rubric").filter(
            item__queue__in=queues_visible(request.user)
        )
        self.review = get_object_or_404(reviews, pk=review_id)
        problem = review_revise_problem(self.review, now=timezone.now())
        if problem is not None:
            messages.warning(request, f"{problem.message} You can no longer edit it.")
            return redirect("admin:workspace_history")
        return super().dispatch(request, review_id)

    def get(self, request, review_id: int):
        return self.show(self.review_form())

    def post(self, request, review_id: int):
        form = self.review_form(data=request.POST)
        if not form.is_valid():
            return self.show(form)
        try:
            revision = review_revise(review=self.review, reviewer=request.user, **form.submission())
        except ValidationError as error:
            form.add_service_error(error)
            return self.show(form)
        except (Conflict, NotFound) as error:
            messages.warning(request, error.message)
            return redirect("admin:workspace_history")

        messages.success(request, f"Saved your revised {revision.get_verdict_display().lower()} verdict on item {revision.item}.")
        return redirect("admin:workspace_history")

    def review_form(self, data=None) -> ReviewForm:
        item = self.review.item
        return ReviewForm(
            data=data, initial=review_initial(self.review), rubric=item.queue.rubric,
            original_response=self.review.original_text, item=item,
        )

    def show(self, form: ReviewForm) -> TemplateResponse:
        item = self.review.item
        return self.render(
            "workspace/review_edit.html",
            f"Edit your review of item {item}",
            review=self.review,
            item=item,
            queue=item.queue,
            rubric=item.queue.rubric,
            edit_deadline=review_edit_deadline(self.review),
            form=form,
            **reply_context(item, form),
        )
