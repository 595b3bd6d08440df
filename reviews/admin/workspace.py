"""The reviewer workspace: the queue list, claiming the next item, and reviewing it.

Each view runs inside the admin site (``BookbagAdminSite.admin_view``), so
only active staff reach it. Which queues and assignments a user may touch
comes from ``reviews.access``. Any other queue or assignment returns 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views import View

from bookbag.errors import Conflict, NotFound

from ..access import can_adjudicate_any, queues_overseen, queues_visible, scoped_get_or_404
from ..models import Assignment, Queue, Review, ReviewItem
from ..services import assignment_claim, assignment_release, review_submit
from .forms import ReviewForm
from .item_progress import FINISHED_STATES, PROGRESS_LABELS, finished_detail
from .reply_choice import reply_context

SKIPPED_SESSION_KEY = "workspace_skipped_items"
# Enough for a long session; the oldest skips are forgotten first.
MAX_SKIPPED_PER_QUEUE = 200


class WorkspaceView(View):
    """A workspace page; ``site`` is the admin site that serves it."""

    site = None

    def render(self, template: str, title: str, **context) -> TemplateResponse:
        context = {**self.site.each_context(self.request), "title": title, **context}
        return TemplateResponse(self.request, template, context)


def _count_per_queue(rows: QuerySet, queue_field: str) -> Subquery:
    """Return a subquery counting ``rows`` of the outer queue, for ``annotate``."""
    counted = rows.filter(**{queue_field: OuterRef("pk")}).order_by().values(queue_field)
    return Subquery(counted.annotate(total=Count("id")).values("total"), output_field=IntegerField())


def queues_with_counts(user) -> QuerySet[Queue]:
    """Return the queues ``user`` belongs to, with item counts by state and the user's own work.

    ``finished`` counts reviewed and done items, and ``adjudicated`` the done ones among them.
    ``mine`` counts the user's submitted reviews and ``mine_held`` their live claims.
    """
    states = ReviewItem.State
    mine = Review.objects.filter(reviewer=user, kind=Review.Kind.REVIEW)
    held = Assignment.objects.filter(reviewer=user, state=Assignment.State.CLAIMED, expires_at__gt=timezone.now())
    return (
        Queue.objects.filter(pk__in=queues_visible(user))
        .select_related("rubric")
        .annotate(
            pending=Count("items", filter=Q(items__state=states.PENDING)),
            in_review=Count("items", filter=Q(items__state=states.IN_REVIEW)),
            finished=Count("items", filter=Q(items__state__in=FINISHED_STATES)),
            adjudicated=Count("items", filter=Q(items__state=states.DONE)),
            adjudication=Count("items", filter=Q(items__state=states.ADJUDICATION)),
            mine=Coalesce(_count_per_queue(mine, "item__queue"), 0),
            mine_held=Coalesce(_count_per_queue(held, "queue"), 0),
        )
        .order_by("name")
    )


def _segments(total: int, parts: list[tuple[str, str, int]], details: dict[str, str] | None = None) -> list[dict]:
    """Return bar segments with their share of ``total`` in percent (0 when the queue is empty)."""
    details = details or {}
    return [
        {
            "key": key, "label": label, "count": count, "percent": round(100 * count / total, 2) if total else 0,
            "detail": details.get(key, ""),
        }
        for key, label, count in parts
    ]


def progress_bars(queue: Queue) -> dict[str, list[dict]]:
    """Return the everyone and mine progress bars of a queue from ``queues_with_counts``.

    The everyone bar has the manager dashboard's buckets, labels and order.
    The mine bar measures the items this reviewer reviewed or has claimed against
    every item of the queue, because a reviewer judges each item at most once.
    """
    counts = {
        "finished": queue.finished, "adjudication": queue.adjudication, "in_review": queue.in_review,
        "pending": queue.pending,
    }
    total = sum(counts.values())
    everyone = [(key, label, counts[key]) for key, label in PROGRESS_LABELS.items()]
    rest = max(total - queue.mine - queue.mine_held, 0)
    mine = [("reviewed", "Reviewed by you", queue.mine), ("held", "Held by you", queue.mine_held),
            ("rest", "Not yet yours", rest)]
    return {
        "total": total,
        "everyone": _segments(total, everyone, {"finished": finished_detail(queue.adjudicated)}),
        "mine": _segments(total, mine),
    }


def nothing_left_message(queue: Queue, user) -> str:
    """Say that ``queue`` has nothing for ``user``, and whether other reviewers still hold items."""
    held_by_others = (
        Assignment.objects.filter(queue=queue, state=Assignment.State.CLAIMED, expires_at__gt=timezone.now())
        .exclude(reviewer=user)
        .count()
    )
    if held_by_others:
        noun = "item is" if held_by_others == 1 else "items are"
        return (
            f"No items left to claim in {queue.name}. {held_by_others} {noun} still held by other reviewers "
            "and come back to the queue if they are released or their leases expire."
        )
    return f"No items left to claim in {queue.name}. You have reviewed every item available to you."


def claim_next(request, queue: Queue, skipped: list[int] | None = None) -> HttpResponse:
    """Claim the next item of ``queue`` and open it, or return to the queue list with the reason.

    ``skipped`` lists the item ids the reviewer skipped in this session. The
    claim passes over them until only they are left, and then the list is cleared.
    """
    if skipped is None:
        skipped = request.session.get(SKIPPED_SESSION_KEY, {}).get(str(queue.pk), [])
    try:
        assignment = assignment_claim(queue=queue, reviewer=request.user, exclude_item_ids=skipped)
        if assignment is None and skipped:
            # Only skipped items are left: hand them out again rather than report the queue empty.
            forget_skips(request.session, queue)
            messages.info(request, f"Only items you skipped are left in {queue.name}; here they are again.")
            assignment = assignment_claim(queue=queue, reviewer=request.user)
    except NotFound as error:
        raise Http404(error.message) from error
    except Conflict as error:
        messages.warning(request, error.message)
        return redirect("admin:workspace")
    if assignment is None:
        messages.info(request, nothing_left_message(queue, request.user))
        return redirect("admin:workspace")
    return redirect("admin:workspace_assignment", assignment.pk)


class QueueListView(WorkspaceView):
    def get(self, request):
        queues = list(queues_with_counts(request.user))
        for queue in queues:
            queue.progress = progress_bars(queue)
        can_adjudicate = can_adjudicate_any(request.user)
        adjudication_waiting = 0
        if can_adjudicate:
            adjudication_waiting = ReviewItem.objects.filter(
                queue__in=queues_overseen(request.user), state=ReviewItem.State.ADJUDICATION
            ).count()

        return self.render(
            "workspace/index.html",
            "Workspace",
            queues=queues,
            held=Assignment.objects.filter(
                reviewer=request.user, state=Assignment.State.CLAIMED, expires_at__gt=timezone.now()
            ).select_related("item", "queue"),
            can_adjudicate=can_adjudicate,
            adjudication_waiting=adjudication_waiting,
        )


class ClaimView(WorkspaceView):
    http_method_names = ["post"]

    def post(self, request, queue_id: int):
        queue = scoped_get_or_404(queues_visible(request.user), user=request.user, pk=queue_id)
        return claim_next(request, queue)


def own_assignment(user, assignment_id: int) -> Assignment:
    """Return ``user``'s assignment in a queue they still belong to, or raise Http404."""
    assignments = Assignment.objects.select_related("item__queue__rubric", "queue")
    return scoped_get_or_404(
        assignments.filter(reviewer=user, queue__in=queues_visible(user)), user=user, pk=assignment_id
    )


def lease_problem(assignment: Assignment) -> str | None:
    """Return why ``assignment`` can no longer be reviewed, or None while its lease runs."""
    item, queue = assignment.item, assignment.queue.name
    if assignment.state == Assignment.State.SUBMITTED:
        return f"You already reviewed item {item}. Claim the next one from {queue}."
    if assignment.state != Assignment.State.CLAIMED:
        return f"Your claim on item {item} was {assignment.state}. Claim again from {queue} to continue."
    if assignment.expires_at <= timezone.now():
        return f"Your lease on item {item} expired. Claim again from {queue} to continue."
    return None


class AssignmentView(WorkspaceView):
    """One claimed item: the conversation, the reply under review and the review form."""

    def dispatch(self, request, assignment_id: int):
        self.assignment = own_assignment(request.user, assignment_id)
        problem = lease_problem(self.assignment)
        if problem:
            messages.warning(request, problem)
            return redirect("admin:workspace")
        return super().dispatch(request, assignment_id)

    def get(self, request, assignment_id: int):
        return self.show(self.review_form())

    def post(self, request, assignment_id: int):
        form = self.review_form(data=request.POST)
        if not form.is_valid():
            return self.show(form)
        try:
            review = review_submit(assignment=self.assignment, reviewer=request.user, **form.submission())
        except ValidationError as error:
            form.add_service_error(error)
            return self.show(form)
        except Conflict as error:
            messages.warning(request, error.message)
            return redirect("admin:workspace")

        messages.success(request, f"Saved your {review.get_verdict_display().lower()} verdict on item {review.item}.")
        return claim_next(request, self.assignment.queue)

    def review_form(self, data=None) -> ReviewForm:
        item = self.assignment.item
        return ReviewForm(data=data, rubric=item.queue.rubric, original_response=item.response_text, item=item)

    def show(self, form: ReviewForm) -> TemplateResponse:
        item = self.assignment.item
        return self.render(
            "workspace/assignment.html",
            f"Review item {item}",
            assignment=self.assignment,
            item=item,
            queue=self.assignment.queue,
            rubric=item.queue.rubric,
            form=form,
            **reply_context(item, form),
        )


def remember_skip(session, assignment: Assignment) -> list[int]:
    """Add the assignment's item to the session's skipped items of its queue and return them."""
    skipped = session.get(SKIPPED_SESSION_KEY, {})
    queue_key = str(assignment.queue_id)
    items = [item_id for item_id in skipped.get(queue_key, []) if item_id != assignment.item_id]
    items = (items + [assignment.item_id])[-MAX_SKIPPED_PER_QUEUE:]
    skipped[queue_key] = items
    session[SKIPPED_SESSION_KEY] = skipped
    return items


def forget_skips(session, queue: Queue) -> None:
    skipped = session.get(SKIPPED_SESSION_KEY, {})
    if skipped.pop(str(queue.pk), None) is not None:
        session[SKIPPED_SESSION_KEY] = skipped


class SkipView(WorkspaceView):
    """Release the item, remember it in the session as skipped, and claim the next one.

    Skipped items stay in the pool for other reviewers. The session's list
    ends at sign-out. See ``claim_next`` for a skipped item that is still first in line.
    """

    http_method_names = ["post"]

    def post(self, request, assignment_id: int):
        assignment = own_assignment(request.user, assignment_id)
        skipped = remember_skip(request.session, assignment)
        try:
            assignment_release(assignment=assignment, reviewer=request.user)
        except Conflict as error:
            messages.warning(request, error.message)
            return redirect("admin:workspace")

        messages.info(request, f"Skipped item {assignment.item}.")
        return claim_next(request, assignment.queue, skipped=skipped)


class ReleaseView(WorkspaceView):
    http_method_names = ["post"]

    def post(self, request, assignment_id: int):
        assignment = own_assignment(request.user, assignment_id)
        try:
            assignment_release(assignment=assignment, reviewer=request.user)
        except Conflict as error:
            messages.warning(request, error.message)
        else:
            messages.info(request, f"Released item {assignment.item} back to {assignment.queue.name}.")
        return redirect("admin:workspace")
