"""Claiming, releasing and expiring leases on review items.

A claim is one transaction. On PostgreSQL the candidate item is locked with
``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent reviewers pass over each
other's rows. SQLite ignores row locks, but its transactions start
``IMMEDIATE`` (see the settings), which serialises claims.
"""

import datetime
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookbag.audit.services import audit_record
from bookbag.errors import Conflict, NotFound, PermissionDenied

from ..access import can_review
from ..models import Assignment, Queue, ReviewItem

logger = logging.getLogger(__name__)

LIVE_STATES = (Assignment.State.CLAIMED, Assignment.State.SUBMITTED)


def _free_slot(assignment: Assignment, *, state: str, actor, action: str, now: datetime.datetime) -> None:
    """End a claimed assignment without a review and give its slot back to the item."""
    assignment.state = state
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])

    item = ReviewItem.objects.select_for_update().get(pk=assignment.item_id)
    item.active_assignments = max(item.active_assignments - 1, 0)
    if item.state == ReviewItem.State.IN_REVIEW and not item.reviews.exists() and item.active_assignments == 0:
        item.state = ReviewItem.State.PENDING
    item.save(update_fields=["active_assignments", "state", "updated_at"])

    audit_record(
        actor=actor, action=action, instance=assignment,
        before={"state": Assignment.State.CLAIMED}, after={"state": state},
    )


@transaction.atomic
def assignments_expire(*, queue: Queue | None = None, now: datetime.datetime | None = None) -> int:
    """Mark claims whose lease has run out as expired and return their items to the pool."""
    now = now or timezone.now()
    stale = Assignment.objects.filter(state=Assignment.State.CLAIMED, expires_at__lte=now)
    if queue is not None:
        stale = stale.filter(queue=queue)

    count = 0
    for assignment in stale.select_for_update(skip_locked=True).order_by("id"):
        _free_slot(assignment, state=Assignment.State.EXPIRED, actor=None, action="assignment.expire", now=now)
        count += 1
    if count:
        logger.info("assignments.expired", extra={"queue_id": getattr(queue, "pk", None), "count": count})
    return count


def _claimable_items(queue: Queue, reviewer):
    mine = Assignment.objects.filter(reviewer=reviewer, state__in=LIVE_STATES).values("item_id")
    return (
        ReviewItem.objects.filter(
            queue=queue,
            state__in=[ReviewItem.State.PENDING, ReviewItem.State.IN_REVIEW],
            active_assignments__lt=queue.reviews_per_item,
        )
        .exclude(pk__in=mine)
        .order_by("-priority", "id")
    )


@transaction.atomic
def assignment_claim(*, queue: Queue, reviewer, now: datetime.datetime | None = None) -> Assignment | None:
    """Reserve the next item of ``queue`` for ``reviewer`` and return the assignment.

    A reviewer who still holds a live claim in the queue gets that one back.
    Returns None when nothing is claimable for this reviewer.
    """
    if not can_review(reviewer, queue):
        raise NotFound(f"Queue {queue.pk} not found.")
    if not queue.is_active:
        raise Conflict(f"Queue {queue.slug!r} is paused; ask a manager to activate it.", code="queue_inactive")
    now = now or timezone.now()

    # Locking the reviewer's own row serialises their concurrent claims, so
    # two requests from one reviewer cannot each take a different item.
    get_user_model().objects.select_for_update().filter(pk=reviewer.pk).exists()
    held = Assignment.objects.filter(
        queue=queue, reviewer=reviewer, state=Assignment.State.CLAIMED, expires_at__gt=now
    ).first()
    if held is not None:
        return held
    assignments_expire(queue=queue, now=now)

    item = _claimable_items(queue, reviewer).select_for_update(skip_locked=True).first()
    if item is None:
        return None

    item.active_assignments = F("active_assignments") + 1
    item.state = ReviewItem.State.IN_REVIEW
    item.save(update_fields=["active_assignments", "state", "updated_at"])
    assignment = Assignment(
        item=item, queue=queue, reviewer=reviewer, state=Assignment.State.CLAIMED,
        claimed_at=now, expires_at=now + datetime.timedelta(minutes=queue.lease_minutes),
    )
    assignment.full_clean()
    assignment.save()

    audit_record(
        actor=reviewer, action="assignment.claim", instance=assignment,
        after={"item": item.pk, "reviewer": reviewer.pk, "expires_at": assignment.expires_at.isoformat()},
    )
    return assignment


@transaction.atomic
def assignment_release(*, assignment: Assignment, reviewer) -> Assignment:
    """Give a claimed item back to the pool before reviewing it."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.reviewer_id != reviewer.pk:
        raise NotFound(f"Assignment {assignment.pk} not found.")
    if assignment.state != Assignment.State.CLAIMED:
        raise Conflict(
            f"Assignment {assignment.pk} is {assignment.state}, not claimed; there is nothing to release.",
            code="assignment_not_claimed",
        )
    _free_slot(assignment, state=Assignment.State.RELEASED, actor=reviewer, action="assignment.release", now=timezone.now())
    return assignment


def release_all_for(*, actor, queue: Queue, reviewer) -> int:
    """Release every live claim ``reviewer`` holds in ``queue`` (on removal from it)."""
    if actor is None:
        raise PermissionDenied("Releasing another reviewer's items needs an actor.")
    count = 0
    held = Assignment.objects.filter(queue=queue, reviewer=reviewer, state=Assignment.State.CLAIMED)
    for assignment in held.select_for_update().order_by("id"):
        _free_slot(assignment, state=Assignment.State.RELEASED, actor=actor, action="assignment.release", now=timezone.now())
        count += 1
    return count
