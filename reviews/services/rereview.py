"""Sending items reviewed under an older rubric version back to the pool for new reviews."""

from collections.abc import Iterable

from django.db import transaction

from bookbag.audit.services import audit_record, audit_record_many

from ..models import Assignment, Review, ReviewItem
from .assigning import items_lock_managed

REVIEWED_STATES = (ReviewItem.State.REVIEWED, ReviewItem.State.ADJUDICATION, ReviewItem.State.DONE)


@transaction.atomic
def items_rereview(*, actor, items: Iterable[ReviewItem]) -> int:
    """Return reviewed ``items`` to the pool, to be reviewed again under their queue's current rubric.

    Earlier reviews and adjudications are kept with ``is_current`` false and
    their assignments become ``superseded``, which frees every slot, so the
    same reviewers may review again. The final review is cleared until the
    new reviews settle the item. Items still open are left alone. Returns
    how many items were sent back; raises PermissionDenied unless ``actor``
    manages every item's queue.
    """
    count = 0
    for item in items_lock_managed(actor, items):
        if item.state not in REVIEWED_STATES:
            continue
        before = {"state": item.state, "final_review": item.final_review_id}
        retired = _reviews_retire(actor, item)
        _assignments_supersede(actor, item)
        item.state, item.final_review, item.active_assignments = ReviewItem.State.PENDING, None, 0
        item.save(update_fields=["state", "final_review", "active_assignments", "updated_at"])
        audit_record(
            actor=actor, action="item.rereview", instance=item, before=before,
            after={"state": item.state, "final_review": None, "retired_reviews": retired},
        )
        count += 1
    return count


def _reviews_retire(actor, item: ReviewItem) -> int:
    """Mark the item's current reviews as no longer current, with one event each; return how many."""
    reviews = list(Review.objects.select_for_update().filter(item=item, is_current=True).only("id", "item_id"))
    Review.objects.filter(pk__in=[review.pk for review in reviews]).update(is_current=False)
    for review in reviews:
        review.item = item
    audit_record_many(
        actor=actor, action="review.retire",
        changes=[(review, {"is_current": True}, {"is_current": False}) for review in reviews],
    )
    return len(reviews)


def _assignments_supersede(actor, item: ReviewItem) -> None:
    """Mark the item's submitted assignments as superseded, with one event each."""
    assignments = list(
        Assignment.objects.select_for_update()
        .filter(item=item, state=Assignment.State.SUBMITTED)
        .only("id", "queue_id", "state")
    )
    Assignment.objects.filter(pk__in=[assignment.pk for assignment in assignments]).update(
        state=Assignment.State.SUPERSEDED
    )
    audit_record_many(
        actor=actor, action="assignment.supersede",
        changes=[
            (assignment, {"state": Assignment.State.SUBMITTED}, {"state": Assignment.State.SUPERSEDED})
            for assignment in assignments
        ],
    )
