"""Claiming, releasing and expiring leases on review items.

A claim is one transaction. On PostgreSQL the candidate item is locked with
``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent reviewers pass over each
other's rows. SQLite ignores row locks, but its transactions start
``IMMEDIATE`` (see the settings), which serialises claims.
"""

import datetime
import logging
from collections.abc import Collection, Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookbag.audit.services import audit_record
from bookbag.errors import Conflict, NotFound, PermissionDenied

from ..access import can_review
from ..models import LIVE_ASSIGNMENT_STATES, Assignment, Queue, ReviewItem
from .claim_reads import claims_held_or_stale, pool_item_next, reservation_next

logger = logging.getLogger(__name__)

LIVE_STATES = LIVE_ASSIGNMENT_STATES


def _free_slot(assignment: Assignment, *, state: str, actor, action: str, now: datetime.datetime) -> None:
    """End a claimed assignment without a review and give its slot back to the item."""
    assignment.state = state
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])

    item = ReviewItem.objects.select_for_update().get(pk=assignment.item_id)
    item.active_assignments = max(item.active_assignments - 1, 0)
    has_reviews = item.reviews.filter(is_current=True).exists()
    if item.state == ReviewItem.State.IN_REVIEW and not has_reviews and item.active_assignments == 0:
        item.state = ReviewItem.State.PENDING
    item.save(update_fields=["active_assignments", "state", "updated_at"])

    audit_record(
        actor=actor, action=action, instance=assignment,
        before={"state": Assignment.State.CLAIMED}, after={"state": state},
    )


@transaction.atomic
def assignments_expire(*, queue: Queue | None = None, now: datetime.datetime | None = None) -> int:
    """Mark claims whose lease has run out as expired and return their items to the pool."""
    return _expire_stale(queue=queue, now=now or timezone.now())


def _expire_stale(*, queue: Queue | None, now: datetime.datetime) -> int:
    """Expire the stale claims of ``queue`` (of every queue when None) inside the caller's transaction."""
    stale = Assignment.objects.filter(state=Assignment.State.CLAIMED, expires_at__lte=now)
    if queue is not None:
        stale = stale.filter(queue=queue)
    return _expire(stale.select_for_update(skip_locked=True).order_by("id"), queue=queue, now=now)


def _expire(stale: Iterable[Assignment], *, queue: Queue | None, now: datetime.datetime) -> int:
    count = 0
    for assignment in stale:
        _free_slot(assignment, state=Assignment.State.EXPIRED, actor=None, action="assignment.expire", now=now)
        count += 1
    if count:
        logger.info("assignments.expired", extra={"queue_id": getattr(queue, "pk", None), "count": count})
    return count


def _held_after_expiry(queue: Queue, reviewer, now: datetime.datetime) -> Assignment | None:
    """Expire the stale claims of ``queue`` and return ``reviewer``'s unexpired claim there, if any.

    One query reads both, because every claim runs this.
    """
    claims = claims_held_or_stale(queue, reviewer, now)
    _expire([claim for claim in claims if claim.expires_at <= now], queue=queue, now=now)
    return next((claim for claim in claims if claim.expires_at > now), None)


def free_slot(item: ReviewItem, reviews_per_item: int) -> int | None:
    """Return the lowest of the item's slots 1..``reviews_per_item`` that no live assignment holds.

    The caller must hold the item's row lock. If it does not, the unique
    (item, slot) constraint on live assignments still rejects a second claim of a slot.
    """
    # The services keep active_assignments equal to the count of live assignments, so
    # with none the first slot is free. The unique constraint backs this up.
    if item.active_assignments == 0 and reviews_per_item >= 1:
        return 1
    taken = set(Assignment.objects.filter(item=item, state__in=LIVE_STATES).values_list("slot", flat=True))
    return next((slot for slot in range(1, reviews_per_item + 1) if slot not in taken), None)


def _start_lease(assignment: Assignment, queue: Queue, now: datetime.datetime) -> None:
    assignment.state = Assignment.State.CLAIMED
    assignment.claimed_at = now
    assignment.expires_at = now + datetime.timedelta(minutes=queue.lease_minutes)
    # The foreign keys were just read under lock and the database enforces the
    # slot and reviewer constraints, so only field values are validated here.
    assignment.full_clean(exclude=["item", "queue", "reviewer"], validate_constraints=False)
    assignment.save()
    audit_record(
        actor=assignment.reviewer, action="assignment.claim", instance=assignment,
        after={"item": assignment.item_id, "reviewer": assignment.reviewer_id, "slot": assignment.slot,
               "expires_at": assignment.expires_at.isoformat()},
    )


def _claim_reserved(queue: Queue, reviewer, now: datetime.datetime) -> Assignment | None:
    """Start the lease on the reviewer's most urgent reserved item in ``queue``, if any."""
    reserved = reservation_next(queue, reviewer)
    if reserved is None:
        return None
    item = ReviewItem.objects.select_for_update().get(pk=reserved.item_id)
    item.state = ReviewItem.State.IN_REVIEW
    item.save(update_fields=["state", "updated_at"])
    reserved.item, reserved.reviewer = item, reviewer
    _start_lease(reserved, queue, now)
    return reserved


def _claim_from_pool(
    queue: Queue, reviewer, now: datetime.datetime, exclude_item_ids: Collection[int] = ()
) -> Assignment | None:
    item = pool_item_next(queue, reviewer, exclude_item_ids)
    if item is None:
        return None
    slot = free_slot(item, queue.reviews_per_item)
    if slot is None:
        raise Conflict(
            f"Item {item.pk} counts {item.active_assignments} live assignments but has no free slot; "
            "run assignments_expire and claim again.",
            code="slot_count_mismatch",
        )

    item.active_assignments = F("active_assignments") + 1
    item.state = ReviewItem.State.IN_REVIEW
    item.save(update_fields=["active_assignments", "state", "updated_at"])
    assignment = Assignment(item=item, queue=queue, reviewer=reviewer, slot=slot)
    _start_lease(assignment, queue, now)
    return assignment


@transaction.atomic
def assignment_claim(
    *, queue: Queue, reviewer, now: datetime.datetime | None = None, exclude_item_ids: Collection[int] = ()
) -> Assignment | None:
    """Reserve the next item of ``queue`` for ``reviewer`` and return the assignment.

    A reviewer who still holds a live claim in the queue gets that one back.
    Next come the items a manager reserved for them (highest priority
    first), then the pool (highest priority, then oldest), leaving out the
    pool items in ``exclude_item_ids`` (those the reviewer skipped). Returns
    None when nothing is claimable for this reviewer.
    """
    if not can_review(reviewer, queue):
        raise NotFound(f"Queue {queue.pk} not found.")
    if not queue.is_active:
        raise Conflict(f"Queue {queue.slug!r} is paused; ask a manager to activate it.", code="queue_inactive")
    now = now or timezone.now()

    # Locking the reviewer's own row serialises their concurrent claims, so
    # two requests from one reviewer cannot each take a different item.
    get_user_model().objects.select_for_update().filter(pk=reviewer.pk).exists()
    held = _held_after_expiry(queue, reviewer, now)
    if held is not None:
        return held

    return _claim_reserved(queue, reviewer, now) or _claim_from_pool(queue, reviewer, now, exclude_item_ids)


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
