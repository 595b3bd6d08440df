"""Submitting verdicts, and the adjudication of items whose reviewers disagree."""

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import Conflict, NotFound, PermissionDenied
from rubrics.models import Rubric
from rubrics.scoring import scores_clean

from ..access import can_adjudicate
from ..models import Assignment, Review, ReviewItem

logger = logging.getLogger(__name__)

REVIEW_FIELDS = ("item", "reviewer", "rubric", "kind", "verdict", "scores", "corrected_response", "reason")


def _hold_rubric(rubric: Rubric) -> None:
    """Keep ``rubric`` from being edited in place until this transaction ends.

    On PostgreSQL a KEY SHARE row lock lets reviews on one rubric run side by
    side but makes ``rubric_update``'s FOR UPDATE wait. The edit then sees the
    new review and creates a new version, and a review that starts during an
    edit scores against the edited criteria. SQLite runs one write
    transaction at a time, so it needs no lock.
    """
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Rubric._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [rubric.pk])


def _build_review(*, item: ReviewItem, reviewer, verdict: str, scores: dict | None, corrected_response: str,
                  reason: str, time_spent_seconds: int, kind: str, assignment: Assignment | None,
                  now: datetime.datetime) -> Review:
    if verdict not in Review.Verdict.values:
        raise ValidationError(
            {"verdict": f"Unknown verdict {verdict!r}; choose approved, needs_fix or rejected."}
        )
    rubric = item.queue.rubric
    _hold_rubric(rubric)
    review = Review(
        item=item, assignment=assignment, reviewer=reviewer, rubric=rubric, kind=kind, verdict=verdict,
        scores=scores_clean(rubric=rubric, scores=scores or {}),
        # Only a needs_fix verdict keeps a rewrite, and only a rejection a reason.
        corrected_response=corrected_response if verdict == Review.Verdict.NEEDS_FIX else "",
        reason=reason if verdict == Review.Verdict.REJECTED else "",
        time_spent_seconds=max(int(time_spent_seconds or 0), 0), submitted_at=now,
    )
    review.full_clean()
    review.save()
    return review


def _settle(item: ReviewItem, actor) -> None:
    """Finalise ``item`` once it has all its reviews: agreement makes it reviewed, else adjudication."""
    reviews = list(item.reviews.filter(kind=Review.Kind.REVIEW).order_by("submitted_at", "id"))
    if len(reviews) < item.queue.reviews_per_item:
        return
    before = {"state": item.state, "final_review": item.final_review_id}
    verdicts = {review.verdict for review in reviews}
    if len(verdicts) == 1:
        # NOTE: agreeing needs_fix reviews keep the first rewrite; rewrites are not compared yet.
        item.final_review = reviews[0]
        item.state = ReviewItem.State.REVIEWED
    else:
        item.state = ReviewItem.State.ADJUDICATION
    item.save(update_fields=["final_review", "state", "updated_at"])
    audit_record(
        actor=actor, action="item.settle", instance=item,
        before=before, after={"state": item.state, "final_review": item.final_review_id},
    )


@transaction.atomic
def review_submit(
    *,
    assignment: Assignment,
    reviewer,
    verdict: str,
    scores: dict[str, Any] | None = None,
    corrected_response: str = "",
    reason: str = "",
    time_spent_seconds: int = 0,
) -> Review:
    """Record ``reviewer``'s verdict on the item they hold, and settle the item when complete.

    Raises NotFound for someone else's assignment, Conflict when the lease
    was released or has run out (even before ``assignments_expire`` marks
    it), and ValidationError for a missing rewrite or reason or an invalid
    score.
    """
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.reviewer_id != reviewer.pk:
        raise NotFound(f"Assignment {assignment.pk} not found.")
    if assignment.state != Assignment.State.CLAIMED:
        raise Conflict(
            f"Assignment {assignment.pk} is {assignment.state}; claim the item again to review it.",
            code="assignment_not_claimed",
        )
    now = timezone.now()
    if assignment.expires_at <= now:
        raise Conflict(
            f"The lease on assignment {assignment.pk} expired at {assignment.expires_at.isoformat()}; "
            "claim the item again to review it.",
            code="lease_expired",
        )
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("queue__rubric").get(pk=assignment.item_id)

    review = _build_review(
        item=item, reviewer=reviewer, verdict=verdict, scores=scores, corrected_response=corrected_response,
        reason=reason, time_spent_seconds=time_spent_seconds, kind=Review.Kind.REVIEW, assignment=assignment, now=now,
    )
    assignment.state = Assignment.State.SUBMITTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])

    audit_record(actor=reviewer, action="review.submit", instance=review, after=snapshot(review, REVIEW_FIELDS))
    _settle(item, reviewer)
    logger.info("review.submitted", extra={"review_id": review.pk, "item_id": item.pk, "verdict": verdict})
    return review


@transaction.atomic
def review_adjudicate(
    *,
    item: ReviewItem,
    lead,
    verdict: str,
    scores: dict[str, Any] | None = None,
    corrected_response: str = "",
    reason: str = "",
    time_spent_seconds: int = 0,
) -> Review:
    """Record a lead's final decision on an item whose reviewers disagreed."""
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("queue__rubric").get(pk=item.pk)
    if not can_adjudicate(lead, item.queue):
        raise PermissionDenied(f"Only a lead of queue {item.queue.slug!r} adjudicates its items.")
    if item.state != ReviewItem.State.ADJUDICATION:
        raise Conflict(f"Item {item.pk} is {item.state}, not awaiting adjudication.", code="not_in_adjudication")

    review = _build_review(
        item=item, reviewer=lead, verdict=verdict, scores=scores, corrected_response=corrected_response,
        reason=reason, time_spent_seconds=time_spent_seconds, kind=Review.Kind.ADJUDICATION, assignment=None,
        now=timezone.now(),
    )
    item.final_review = review
    item.state = ReviewItem.State.DONE
    item.save(update_fields=["final_review", "state", "updated_at"])

    audit_record(actor=lead, action="review.adjudicate", instance=review, after=snapshot(review, REVIEW_FIELDS))
    return review
