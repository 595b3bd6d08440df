from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import Conflict, PermissionDenied
from rubrics.models import Rubric

from ..access import can_manage, is_manager
from ..models import Queue, QueueMembership

QUEUE_FIELDS = (
    "name", "slug", "rubric", "reviews_per_item", "lease_minutes", "blind", "disagreement_threshold",
    "edit_window_minutes", "sampling_rate", "routing_rules", "is_active",
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
    """Create a queue that ``actor`` manages, with its reviewers and leads by username.

    Raises PermissionDenied unless ``actor`` is a manager, and ValidationError
    for an unknown option or user, an old rubric version, or a user listed in
    two roles.
    """
    if not is_manager(actor):
        raise PermissionDenied("Only managers create queues.")
    unknown = set(options) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown queue option {sorted(unknown)[0]!r}.")

    queue = Queue(name=name, slug=slug, rubric=rubric, created_by=actor, **options)
    queue.full_clean()
    _check_latest_rubric(queue.rubric)
    queue.save()
    audit_record(actor=actor, action="queue.create", instance=queue, after=snapshot(queue, QUEUE_FIELDS))

    membership_set(actor=actor, queue=queue, user=actor, role=QueueMembership.Role.MANAGER)
    _members_apply(actor=actor, queue=queue, reviewers=reviewers or [], leads=leads or [])
    return queue


@transaction.atomic
def queue_update(
    *,
    actor,
    queue: Queue,
    reviewers: list[str] | None = None,
    leads: list[str] | None = None,
    **changes: Any,
) -> Queue:
    """Change a queue's settings and, for each list given, make its reviewers or leads exactly those users.

    Raises PermissionDenied unless ``actor`` manages the queue, and
    ValidationError for a field that cannot change, an invalid value, an old
    rubric version, an unknown user or a user listed in two roles.
    """
    if not can_manage(actor, queue):
        raise PermissionDenied(f"You do not manage queue {queue.slug!r}.")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Field {sorted(unknown)[0]!r} of a queue cannot be changed.")

    before = snapshot(queue, QUEUE_FIELDS)
    for field, value in changes.items():
        setattr(queue, field, value)
    queue.full_clean()
    if "rubric" in changes:
        _check_latest_rubric(queue.rubric)
    queue.save()

    after = snapshot(queue, QUEUE_FIELDS)
    if after != before:
        audit_record(actor=actor, action="queue.update", instance=queue, before=before, after=after)
    _members_apply(actor=actor, queue=queue, reviewers=reviewers, leads=leads)
    return queue


@transaction.atomic
def queue_delete(*, actor, queue: Queue) -> None:
    """Delete a queue without items, with its memberships.

    Raises PermissionDenied unless ``actor`` manages the queue, and Conflict
    while it contains items, because items and their reviews keep their queue.
    """
    if not can_manage(actor, queue):
        raise PermissionDenied(f"You do not manage queue {queue.slug!r}.")
    queue = Queue.objects.select_for_update().get(pk=queue.pk)
    item_count = queue.items.count()
    if item_count:
        raise Conflict(
            f"Queue {queue.slug!r} contains {item_count} item(s) and cannot be deleted; "
            "pause it with is_active=false instead.",
            code="queue_not_empty",
        )

    audit_record(actor=actor, action="queue.delete", instance=queue, before=snapshot(queue, QUEUE_FIELDS))
    queue.delete()


def _check_latest_rubric(rubric: Rubric) -> None:
    """Raise ValidationError unless ``rubric`` is the latest version of its slug.

    Editing a rubric moves only the queues on its latest version, so a queue
    on an older one would be left behind.
    """
    latest = Rubric.objects.filter(slug=rubric.slug).order_by("-version").first()
    if latest.pk != rubric.pk:
        raise ValidationError(
            {"rubric": f"Rubric {rubric.slug!r} v{rubric.version} is an old version; use v{latest.version} (id {latest.pk})."}
        )


def _members_apply(*, actor, queue: Queue, reviewers: list[str] | None, leads: list[str] | None) -> None:
    """Make the queue's reviewers and leads exactly the given usernames, for each list that is not None.

    A member whose role changes keeps their claims; a member dropped from the
    list is removed and their claims are released.
    """
    lists = {QueueMembership.Role.REVIEWER: reviewers, QueueMembership.Role.LEAD: leads}
    roles = [role for role, names in lists.items() if names is not None]
    requested_roles: dict[str, str] = {}
    for role in roles:
        for name in lists[role]:
            if requested_roles.get(name, role) != role:
                raise ValidationError(f"User {name!r} is listed as both reviewer and lead; list them once.")
            requested_roles[name] = role
    if not roles:
        return
    users = _users_by_name(list(requested_roles))
    clash = queue.memberships.filter(role=QueueMembership.Role.MANAGER, user__in=users).select_related("user").first()
    if clash is not None:
        raise ValidationError(
            f"User {clash.user.get_username()!r} manages queue {queue.slug!r}; "
            "a manager cannot also be listed as a reviewer or lead."
        )

    dropped = queue.memberships.filter(role__in=roles).exclude(user__in=users).select_related("user")
    for membership in dropped:
        membership_remove(actor=actor, queue=queue, user=membership.user)
    for user in users:
        membership_set(actor=actor, queue=queue, user=user, role=requested_roles[user.get_username()])


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
