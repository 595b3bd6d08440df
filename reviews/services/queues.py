from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import PermissionDenied

from ..access import can_manage, is_manager
from ..models import Queue, QueueMembership

QUEUE_FIELDS = (
    "name", "slug", "rubric", "reviews_per_item", "lease_minutes", "blind",
    "sampling_rate", "routing_rules", "is_active",
)
EDITABLE_FIELDS = set(QUEUE_FIELDS) - {"slug"}


def _users_by_name(usernames: list[str]) -> list:
    User = get_user_model()
    users = {user.get_username(): user for user in User.objects.filter(username__in=usernames)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise ValidationError(f"User {missing[0]!r} not found; create the account first.", code="unknown_user")
    return [users[name] for name in usernames]


@transaction.atomic
def queue_create(
    *,
    actor,
    name: str,
    slug: str,
    rubric,
    reviewers: list[str] | None = None,
    leads: list[str] | None = None,
    **options: Any,
) -> Queue:
    """Create a queue that ``actor`` manages, with its reviewers and leads by username."""
    if not is_manager(actor):
        raise PermissionDenied("Only managers create queues.")
    unknown = set(options) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown queue option {sorted(unknown)[0]!r}.")

    queue = Queue(name=name, slug=slug, rubric=rubric, created_by=actor, **options)
    queue.full_clean()
    queue.save()
    audit_record(actor=actor, action="queue.create", instance=queue, after=snapshot(queue, QUEUE_FIELDS))

    membership_set(actor=actor, queue=queue, user=actor, role=QueueMembership.Role.MANAGER)
    for user in _users_by_name(reviewers or []):
        membership_set(actor=actor, queue=queue, user=user, role=QueueMembership.Role.REVIEWER)
    for user in _users_by_name(leads or []):
        membership_set(actor=actor, queue=queue, user=user, role=QueueMembership.Role.LEAD)
    return queue


@transaction.atomic
def queue_update(*, actor, queue: Queue, **changes: Any) -> Queue:
    if not can_manage(actor, queue):
        raise PermissionDenied(f"You do not manage queue {queue.slug!r}.")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Field {sorted(unknown)[0]!r} of a queue cannot be changed.")

    before = snapshot(queue, QUEUE_FIELDS)
    for field, value in changes.items():
        setattr(queue, field, value)
    queue.full_clean()
    queue.save()

    after = snapshot(queue, QUEUE_FIELDS)
    if after != before:
        audit_record(actor=actor, action="queue.update", instance=queue, before=before, after=after)
    return queue


@transaction.atomic
def membership_set(*, actor, queue: Queue, user, role: str) -> QueueMembership:
    """Give ``user`` ``role`` in ``queue``, adding them if they are not a member yet."""
    creating = queue.created_by_id == actor.pk and is_manager(actor)
    if not creating and not can_manage(actor, queue):
        raise PermissionDenied(f"You do not manage queue {queue.slug!r}.")
    if role not in QueueMembership.Role.values:
        raise ValidationError(f"Unknown role {role!r}; choose from {', '.join(QueueMembership.Role.values)}.")

    membership, created = QueueMembership.objects.get_or_create(queue=queue, user=user, defaults={"role": role})
    before = None if created else {"role": membership.role}
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if created or before != {"role": role}:
        audit_record(
            actor=actor, action="membership.set", instance=membership,
            before=before, after={"queue": queue.pk, "user": user.pk, "role": role},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor, queue: Queue, user) -> None:
    """Remove ``user`` from ``queue`` and release the items they hold there."""
    from .assignments import release_all_for

    if not can_manage(actor, queue):
        raise PermissionDenied(f"You do not manage queue {queue.slug!r}.")
    membership = QueueMembership.objects.filter(queue=queue, user=user).first()
    if membership is None:
        return
    release_all_for(actor=actor, queue=queue, reviewer=user)
    audit_record(
        actor=actor, action="membership.remove", instance=membership,
        before={"queue": queue.pk, "user": user.pk, "role": membership.role},
    )
    membership.delete()
