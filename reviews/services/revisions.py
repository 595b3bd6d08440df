"""Revising a submitted review within the queue's edit window, keeping every earlier revision."""

import datetime
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookbag.audit.services import audit_record_batch, snapshot
from bookbag.errors import Conflict, NotFound

from ..access import can_review
from ..models import Review, ReviewItem
from .reviewing import REVIEW_FIELDS, build_review
from .settling import item_settle

logger = logging.getLogger(__name__)


def review_edit_deadline(review: Review) -> datetime.datetime:
    """Return when the edit window of ``review`` closes, counted from the first submission of the review.

    Reads ``review.assignment`` and ``review.item.queue``, so callers that list many
    reviews should select them along.
    """
    window = datetime.timedelta(minutes=review.item.queue.edit_window_minutes)
    first_submitted_at = review.assignment.finished_at if review.assignment else None
    return (first_submitted_at or review.submitted_at) + window


def review_revise_problem(review: Review, *, now: datetime.datetime) -> Conflict | None:
    """Return the Conflict that stops ``review`` from being revised at ``now``, or None while it may be."""
    item = review.item
    if not review.is_current:
        return Conflict(
            f"Review {review.pk} has been replaced by a later revision or a re-review; revise the current one.",
            code="review_not_current",
        )
    if item.state == ReviewItem.State.DONE:
        return Conflict(f"A lead has decided item {item.pk}, so its reviews can no longer change.", code="item_decided")
    deadline = review_edit_deadline(review)
    if now > deadline:
        return Conflict(
            f"The edit window of queue {item.queue.slug!r} ({item.queue.edit_window_minutes} minutes) for "
            f"review {review.pk} closed at {deadline.isoformat()}.",
            code="edit_window_closed",
        )
    return None


@transaction.atomic
def review_revise(
    *,
    review: Review,
    reviewer,
    verdict: str,
    scores: dict[str, Any] | None = None,
    corrected_response: str = "",
    reason: str = "",
    time_spent_seconds: int = 0,
    turn_index: int | None = None,
    preferred: str = "",
) -> Review:
    """Replace ``reviewer``'s own review with a new revision and settle the item again.

    The earlier revision is kept with ``is_current`` false and the new one
    ``supersedes`` it; the assignment moves to the new revision. The edit
    window counts from the first submission, so revising does not extend it.
    Raises NotFound for someone else's review, Conflict once the window has
    closed, the review was replaced or a lead decided the item, and
    ValidationError as ``review_submit`` does.
    """
    review = Review.objects.select_for_update(of=("self",)).select_related("assignment").get(pk=review.pk)
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("queue__rubric").get(pk=review.item_id)
    if review.reviewer_id != reviewer.pk or review.kind != Review.Kind.REVIEW or not can_review(reviewer, item.queue):
        raise NotFound(f"Review {review.pk} not found among your reviews.")
    now = timezone.now()
    review.item = item
    problem = review_revise_problem(review, now=now)
    if problem is not None:
        raise problem

    assignment = review.assignment
    review.is_current = False
    review.assignment = None
    review.save(update_fields=["is_current", "assignment"])
    judgement = {
        "verdict": verdict, "scores": scores, "corrected_response": corrected_response, "reason": reason,
        "time_spent_seconds": time_spent_seconds, "turn_index": turn_index, "preferred": preferred,
        "supersedes": review,
    }
    revision = build_review(
        item=item, reviewer=reviewer, judgement=judgement, kind=Review.Kind.REVIEW, assignment=assignment, now=now,
    )

    events = [("review.revise", revision, snapshot(review, REVIEW_FIELDS), snapshot(revision, REVIEW_FIELDS))]
    settled = item_settle(item)
    if settled is not None:
        events.append(("item.settle", item, *settled))
    audit_record_batch(actor=reviewer, entries=events)
    logger.info("review.revised", extra={"review_id": revision.pk, "supersedes_id": review.pk, "item_id": item.pk})
    return revision
