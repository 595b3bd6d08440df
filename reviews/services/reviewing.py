"""Submitting verdicts, and the adjudication of items whose reviewers disagree."""

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from bookbag.audit.services import audit_record, audit_record_batch, snapshot
from bookbag.errors import Conflict, NotFound, PermissionDenied
from rubrics.models import Rubric
from rubrics.scoring import scores_clean

from ..access import can_adjudicate
from ..models import Assignment, Review, ReviewItem
from .settling import item_settle

logger = logging.getLogger(__name__)

REVIEW_FIELDS = (
    "item", "reviewer", "rubric", "kind", "verdict", "scores", "corrected_response", "reason",
    "turn_index", "preferred", "supersedes",
)


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


def _check_target(item: ReviewItem, *, turn_index: int | None, preferred: str) -> None:
    """Raise ValidationError unless ``turn_index`` and ``preferred`` fit the kind of ``item``."""
    if item.is_pairwise and preferred not in Review.Preference.values:
        raise ValidationError({"preferred": f"Item {item.pk} is pairwise; set preferred to a (response) or b (reference)."})
    if not item.is_pairwise and preferred:
        raise ValidationError({"preferred": f"Item {item.pk} has one candidate; leave preferred empty."})
    if turn_index is None:
        return
    if not item.turn_selectable:
        raise ValidationError({"turn_index": f"Item {item.pk} reviews its response only; leave turn_index empty."})
    transcript = item.transcript
    if not 0 <= turn_index < len(transcript) or transcript[turn_index].get("role") != "assistant":
        assistant_turns = [index for index, message in enumerate(transcript) if message.get("role") == "assistant"]
        raise ValidationError(
            {"turn_index": f"Turn {turn_index} of item {item.pk} is not an assistant turn; choose one of {assistant_turns}."}
        )


def build_review(*, item: ReviewItem, reviewer, judgement: dict[str, Any], kind: str,
                 assignment: Assignment | None, now: datetime.datetime) -> Review:
    """Validate and save one review of ``item``; ``judgement`` holds ``review_submit``'s verdict arguments."""
    verdict = judgement["verdict"]
    if verdict not in Review.Verdict.values:
        raise ValidationError(
            {"verdict": f"Unknown verdict {verdict!r}; choose approved, needs_fix or rejected."}
        )
    turn_index, preferred = judgement.get("turn_index"), judgement.get("preferred") or ""
    _check_target(item, turn_index=turn_index, preferred=preferred)
    rubric = item.queue.rubric
    _hold_rubric(rubric)
    review = Review(
        item=item, assignment=assignment, reviewer=reviewer, rubric=rubric, kind=kind, verdict=verdict,
        scores=scores_clean(rubric=rubric, scores=judgement.get("scores") or {}),
        # Only a needs_fix verdict keeps a rewrite, and only a rejection a reason.
        corrected_response=judgement.get("corrected_response", "") if verdict == Review.Verdict.NEEDS_FIX else "",
        reason=judgement.get("reason", "") if verdict == Review.Verdict.REJECTED else "",
        time_spent_seconds=max(int(judgement.get("time_spent_seconds") or 0), 0), submitted_at=now,
        turn_index=turn_index, preferred=preferred, supersedes=judgement.get("supersedes"),
    )
    # The related rows were read in this transaction, and clean() applies the verdict rules
    # that the check constraints back up. Skipping the database-side checks saves about ten
    # queries per review, and the constraints still reject anything that slips through.
    review.full_clean(exclude=["item", "assignment", "reviewer", "rubric", "supersedes"], validate_constraints=False)
    review.save()
    return review


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
    turn_index: int | None = None,
    preferred: str = "",
) -> Review:
    """Record ``reviewer``'s verdict on the item they hold, and settle the item when complete.

    ``turn_index`` picks the assistant turn under review on a
    ``turn_selectable`` item; ``preferred`` (a or b) is required on a
    pairwise item, and the verdict and rewrite then apply to that candidate.

    Raises NotFound for someone else's assignment, Conflict when the lease
    was released or has run out (even before ``assignments_expire`` marks
    it), and ValidationError for a missing rewrite or reason or an invalid
    score, turn or preference.
    """
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.reviewer_id != reviewer.pk:
        raise NotFound(f"Assignment {assignment.pk} not found.")
    if assignment.state == Assignment.State.SUBMITTED:
        review_id = Review.objects.filter(assignment=assignment).values_list("pk", flat=True).first()
        raise Conflict(
            f"Assignment {assignment.pk} is submitted as review {review_id}; to change it, revise the review "
            f"(POST /api/v1/reviews/{review_id}/revise/ or your review history in the workspace).",
            code="assignment_not_claimed",
        )
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

    judgement = {
        "verdict": verdict, "scores": scores, "corrected_response": corrected_response, "reason": reason,
        "time_spent_seconds": time_spent_seconds, "turn_index": turn_index, "preferred": preferred,
    }
    review = build_review(
        item=item, reviewer=reviewer, judgement=judgement, kind=Review.Kind.REVIEW, assignment=assignment, now=now,
    )
    assignment.state = Assignment.State.SUBMITTED
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])

    events = [("review.submit", review, None, snapshot(review, REVIEW_FIELDS))]
    settled = item_settle(item)
    if settled is not None:
        events.append(("item.settle", item, *settled))
    audit_record_batch(actor=reviewer, entries=events)
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
    turn_index: int | None = None,
    preferred: str = "",
) -> Review:
    """Record a lead's final decision on an item whose reviewers disagreed.

    The decision becomes the item's ``final_review``, which exports use, and
    the item is done: later revisions of the reviewers' reviews do not change it.
    """
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("queue__rubric").get(pk=item.pk)
    if not can_adjudicate(lead, item.queue):
        raise PermissionDenied(f"Only a lead of queue {item.queue.slug!r} adjudicates its items.")
    if item.state != ReviewItem.State.ADJUDICATION:
        raise Conflict(f"Item {item.pk} is {item.state}, not awaiting adjudication.", code="not_in_adjudication")

    judgement = {
        "verdict": verdict, "scores": scores, "corrected_response": corrected_response, "reason": reason,
        "time_spent_seconds": time_spent_seconds, "turn_index": turn_index, "preferred": preferred,
    }
    review = build_review(
        item=item, reviewer=lead, judgement=judgement, kind=Review.Kind.ADJUDICATION, assignment=None,
        now=timezone.now(),
    )
    item.final_review = review
    item.state = ReviewItem.State.DONE
    item.save(update_fields=["final_review", "state", "updated_at"])

    audit_record(actor=lead, action="review.adjudicate", instance=review, after=snapshot(review, REVIEW_FIELDS))
    return review
