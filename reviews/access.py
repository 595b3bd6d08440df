"""Who may see and do what. Admin, API, exports and commands all ask here.

Roles: a manager holds the ``reviews.manage_workspace`` permission (or is a
superuser) and manages the queues where their membership role is
``manager``; reviewers and leads see only the queues they belong to.
"""

from django.db.models import QuerySet

from .models import Queue, QueueMembership, ReviewItem


def is_manager(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.has_perm("reviews.manage_workspace")


def queues_visible(user) -> QuerySet[Queue]:
    """Return the queues ``user`` belongs to in any role (every queue for a superuser)."""
    if not (user and user.is_authenticated and user.is_active):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(memberships__user=user).distinct()


def queues_managed(user) -> QuerySet[Queue]:
    """Return the queues whose items, reviews and exports ``user`` manages."""
    if not is_manager(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(
        memberships__user=user, memberships__role=QueueMembership.Role.MANAGER
    ).distinct()


def items_visible(user) -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(queue__in=queues_visible(user))


def membership_role(user, queue: Queue) -> str | None:
    if user.is_superuser:
        return QueueMembership.Role.MANAGER
    membership = QueueMembership.objects.filter(queue=queue, user=user).only("role").first()
    return membership.role if membership else None


def can_review(user, queue: Queue) -> bool:
    return bool(user and user.is_active and membership_role(user, queue))


def can_manage(user, queue: Queue) -> bool:
    return is_manager(user) and membership_role(user, queue) == QueueMembership.Role.MANAGER


def can_adjudicate(user, queue: Queue) -> bool:
    return membership_role(user, queue) in (QueueMembership.Role.LEAD, QueueMembership.Role.MANAGER)
