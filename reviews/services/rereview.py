"""Sending items reviewed under an older rubric version back to the pool for new reviews."""

from collections.abc import Iterable

from django.db import transaction

from bookbag.audit.services import audit_record

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
        retired = Review.objects.filter(item=item, is_current=True).update(is_current=False)
        Assignment.objects.filter(item=item, state=Assignment.State.SUBMITTED).update(
            state=Assignment.State.SUPERSEDED
        )
        item.state, item.final_review, item.active_assignments = ReviewItem.State.PENDING, None, 0
        item.save(update_fields=["state", "final_review", "active_assignments", "updated_at"])
        audit_record(
            actor=actor, action="item.rereview", instance=item, before=before,
            after={"state": item.state, "final_review": None, "retired_reviews": retired},
        )
        count += 1
    return count
