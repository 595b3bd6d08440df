"""The reviewer's own history: every review they submitted in the queues they still belong to, newest first."""

from django.db.models import QuerySet
from django.template.response import TemplateResponse

from ..access import reviews_visible
from ..models import Review
from .workspace import WorkspaceView

PAGE_SIZE = 50


def own_reviews(user) -> QuerySet[Review]:
    return (
        reviews_visible(user)
        .filter(reviewer=user, kind=Review.Kind.REVIEW)
        .select_related("item__queue", "rubric")
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
        # TODO: editing a review within the queue's edit window needs a review_revise service; until then history is read-only.
        return self.render(
            "workspace/history.html",
            "Your review history",
            reviews=rows[:PAGE_SIZE],
            page=page,
            previous_page=page - 1 if page > 1 else None,
            next_page=page + 1 if len(rows) > PAGE_SIZE else None,
        )
