"""Moving items kept without a queue into a queue, so that reviewers can claim them."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record
from bookbag.errors import PermissionDenied

from ..access import can_move_items
from ..models import Queue, Review, ReviewItem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveResult:
    """How many items were moved, and the reason each item given but not moved was skipped, by item id."""

    moved: int
    skipped: dict[int, str]


def _skip_reason(item: ReviewItem) -> str | None:
    if item.queue_id is not None:
        return f"item {item.pk} is already in queue {item.queue.slug!r}"
    if Review.objects.filter(item=item).exists():
        return f"item {item.pk} already has reviews"
    return None


@transaction.atomic
def items_move(*, actor, items: Iterable[ReviewItem], queue: Queue) -> MoveResult:
    """Move each of ``items`` that has no queue and no reviews into ``queue``, with an ``item.move`` event each.

    Items already in a queue or with reviews are skipped with a reason. Raises
    PermissionDenied unless ``actor`` is an admin, because only admins see
    items kept without a queue, and ValidationError for an inactive queue.
    """
    if not can_move_items(actor):
        raise PermissionDenied("Only an admin moves items into a queue, because only admins see items kept without one.")
    if not queue.is_active:
        raise ValidationError({"queue": f"Queue {queue.slug!r} is inactive; activate it first, or choose an active queue."})

    ids = sorted({item.pk for item in items})
    locked = ReviewItem.objects.select_for_update(of=("self",)).select_related("queue").filter(pk__in=ids).order_by("pk")
    moved, skipped = 0, {}
    for item in locked:
        reason = _skip_reason(item)
        if reason:
            skipped[item.pk] = reason
            continue
        item.queue = queue
        item.full_clean(exclude=["queue", "created_by", "final_review"], validate_unique=False, validate_constraints=False)
        item.save(update_fields=["queue", "updated_at"])
        audit_record(actor=actor, action="item.move", instance=item, before={"queue": None}, after={"queue": queue.pk})
        moved += 1

    logger.info("items.moved", extra={"queue_id": queue.pk, "moved_count": moved, "skipped_count": len(skipped)})
    return MoveResult(moved=moved, skipped=skipped)
