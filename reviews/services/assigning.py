"""Managers reserving items for named reviewers, and setting which items are claimed first."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from bookbag.audit.services import audit_record
from bookbag.errors import PermissionDenied

from ..access import can_manage, membership_role
from ..models import LIVE_ASSIGNMENT_STATES, Assignment, Queue, ReviewItem
from .assignments import free_slot

OPEN_STATES = (ReviewItem.State.PENDING, ReviewItem.State.IN_REVIEW)


@dataclass(frozen=True)
class AssignResult:
    """The reservations made, and the reason each item given but not reserved was skipped, by item id."""

    assigned: tuple[Assignment, ...]
    skipped: dict[int, str]


def items_lock_managed(actor, items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """Lock ``items`` in id order and raise PermissionDenied unless ``actor`` manages each one's queue.

    Raises ValidationError for an item kept without a queue, which has no
    members to review it until ``items_move`` puts it in one.
    """
    ids = sorted({item.pk for item in items})
    locked = list(ReviewItem.objects.select_for_update(of=("self",)).select_related("queue").filter(pk__in=ids).order_by("pk"))
    for item in locked:
        if item.queue_id is None:
            raise ValidationError(
                f"Item {item.pk} has no queue; move it into one with the \"Move to queue\" action first."
            )
    queues: dict[int, Queue] = {item.queue_id: item.queue for item in locked}
    for queue in queues.values():
        if not can_manage(actor, queue):
            raise PermissionDenied(f"You do not manage queue {queue.slug!r}; its items cannot be assigned by you.")
    return locked


def _skip_reason(item: ReviewItem, reviewer) -> str | None:
    if item.state not in OPEN_STATES:
        return f"item {item.pk} is {item.state}, not open for review"
    if Assignment.objects.filter(item=item, reviewer=reviewer, state__in=LIVE_ASSIGNMENT_STATES).exists():
        return f"item {item.pk} is already assigned to, claimed or reviewed by {reviewer.get_username()!r}"
    if item.active_assignments >= item.queue.reviews_per_item:
        return f"all {item.queue.reviews_per_item} review slots of item {item.pk} are taken"
    return None


def _reserve(*, actor, item: ReviewItem, reviewer, slot: int) -> Assignment:
    assignment = Assignment(
        item=item, queue=item.queue, reviewer=reviewer, slot=slot, state=Assignment.State.RESERVED, assigned_by=actor,
    )
    assignment.full_clean()
    assignment.save()
    ReviewItem.objects.filter(pk=item.pk).update(active_assignments=F("active_assignments") + 1)
    audit_record(
        actor=actor, action="assignment.assign", instance=assignment,
        after={"item": item.pk, "reviewer": reviewer.pk, "slot": slot, "state": Assignment.State.RESERVED},
    )
    return assignment


@transaction.atomic
def assignment_assign(*, actor, items: Iterable[ReviewItem], reviewer) -> AssignResult:
    """Reserve each of ``items`` for ``reviewer``, who gets them before the pool when claiming.

    Each reservation takes one of the item's review slots. Items that are
    closed, already held or reviewed by ``reviewer``, or have no free slot
    are skipped with a reason. Raises PermissionDenied unless ``actor``
    manages every item's queue, and ValidationError when ``reviewer`` is
    not a member of one of those queues.
    """
    locked = items_lock_managed(actor, items)
    for queue in {item.queue_id: item.queue for item in locked}.values():
        if membership_role(reviewer, queue) is None:
            raise ValidationError(
                f"User {reviewer.get_username()!r} is not a member of queue {queue.slug!r}; add them to it first."
            )

    assigned, skipped = [], {}
    for item in locked:
        reason = _skip_reason(item, reviewer)
        slot = None if reason else free_slot(item, item.queue.reviews_per_item)
        if slot is None:
            skipped[item.pk] = reason or f"item {item.pk} has no free review slot"
            continue
        assigned.append(_reserve(actor=actor, item=item, reviewer=reviewer, slot=slot))
    return AssignResult(assigned=tuple(assigned), skipped=skipped)


@transaction.atomic
def item_priority_set(*, actor, items: Iterable[ReviewItem], priority: int) -> int:
    """Set the claim priority of ``items`` (higher is claimed first) and return how many changed.

    Raises PermissionDenied unless ``actor`` manages every item's queue, and
    ValidationError for a priority that is not an integer.
    """
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValidationError({"priority": f"Priority must be an integer, not {priority!r}."})
    changed = 0
    for item in items_lock_managed(actor, items):
        if item.priority == priority:
            continue
        before = {"priority": item.priority}
        item.priority = priority
        item.full_clean(exclude=["queue", "created_by", "final_review"], validate_unique=False, validate_constraints=False)
        item.save(update_fields=["priority", "updated_at"])
        audit_record(actor=actor, action="item.prioritize", instance=item, before=before, after={"priority": priority})
        changed += 1
    return changed
