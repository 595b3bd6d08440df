"""Who may see and do what. Admin, API, exports and commands all ask here.

Roles: a manager holds the ``reviews.manage_workspace`` permission (or is a
superuser) and manages the queues where their membership role is
``manager``; reviewers and leads see only the queues they belong to.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from bookbag.audit.models import AuditEvent, AuditEventQueue
from rubrics.models import Rubric

from .models import Assignment, Queue, QueueMembership, Review, ReviewItem

OVERSEEING_ROLES = (QueueMembership.Role.LEAD, QueueMembership.Role.MANAGER)
RUBRIC_OBJECT_TYPES = ("rubrics.rubric", "rubrics.criterion")


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


def queues_overseen(user) -> QuerySet[Queue]:
    """Return the queues where ``user`` is a lead or manager (every queue for a superuser).

    Overseers adjudicate the queue's items and see every review in it, blind or not.
    """
    if not (user and user.is_authenticated and user.is_active):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(memberships__user=user, memberships__role__in=OVERSEEING_ROLES).distinct()


def items_visible(user) -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(queue__in=queues_visible(user))


def _work_visible(user, queue_field: str) -> Q:
    """Match the rows ``user`` may see through ``queue_field``.

    A reviewer sees their own rows in their queues, and every member's rows in
    queues that are not blind or that they oversee.
    """
    member_of = queues_visible(user)
    return (
        Q(reviewer=user, **{f"{queue_field}__in": member_of})
        | Q(**{f"{queue_field}__in": member_of.filter(blind=False)})
        | Q(**{f"{queue_field}__in": queues_overseen(user)})
    )


def assignments_visible(user) -> QuerySet[Assignment]:
    if not (user and user.is_authenticated and user.is_active):
        return Assignment.objects.none()
    if user.is_superuser:
        return Assignment.objects.all()
    return Assignment.objects.filter(_work_visible(user, "queue"))


def reviews_visible(user) -> QuerySet[Review]:
    if not (user and user.is_authenticated and user.is_active):
        return Review.objects.none()
    if user.is_superuser:
        return Review.objects.all()
    return Review.objects.filter(_work_visible(user, "item__queue"))


def can_see_others_reviews(user, item: ReviewItem) -> bool:
    """Return whether ``user`` may see other reviewers' reviews of ``item``.

    True for members of a queue that is not blind and for the queue's leads
    and managers. In a blind queue a reviewer never sees them, not even
    after submitting: within the edit window they could otherwise revise
    towards the others and inflate agreement.
    """
    role = membership_role(user, item.queue)
    if role is None:
        return False
    return not item.queue.blind or role in OVERSEEING_ROLES


def rubrics_visible(user) -> QuerySet[Rubric]:
    """Return every rubric version for a manager, else the versions the user's queues use now."""
    if is_manager(user):
        return Rubric.objects.all()
    return Rubric.objects.filter(queues__in=queues_visible(user)).distinct()


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


def audit_queue_ids(instance) -> list[int]:
    """Return the ids of the queues that ``instance`` belongs to, which decide who may read its audit events.

    Rubrics, tokens, webhooks, users and items kept without a queue belong to none.
    """
    from exports.models import ExportJob

    if isinstance(instance, Queue):
        return [instance.pk]
    if isinstance(instance, QueueMembership | ReviewItem | Assignment):
        return [instance.queue_id] if instance.queue_id is not None else []
    if isinstance(instance, Review):
        return [instance.item.queue_id] if instance.item.queue_id is not None else []
    if isinstance(instance, ExportJob):
        return list(instance.queues.values_list("pk", flat=True))
    return []


def audit_events_visible(user) -> QuerySet[AuditEvent]:
    """Return the audit events ``user`` may read: every one for a superuser, none for a non-manager.

    A manager may read the events of objects in the queues they manage, the
    events of rubrics (every manager may read every rubric) and the events
    of their own actions.
    """
    if not is_manager(user):
        return AuditEvent.objects.none()
    if user.is_superuser:
        return AuditEvent.objects.all()
    in_managed_queue = Exists(
        AuditEventQueue.objects.filter(event=OuterRef("pk"), queue_id__in=queues_managed(user).values("pk"))
    )
    return AuditEvent.objects.filter(
        in_managed_queue | Q(object_type__in=RUBRIC_OBJECT_TYPES) | Q(actor_id=user.pk)
    )
