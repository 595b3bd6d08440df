"""Who may see and do what. Admin, API, exports, webhooks, tokens and commands all ask here.

Roles: an admin is an active superuser and may see everything. A manager holds
the ``reviews.manage_workspace`` permission, creates queues and rubrics and
manages the queues where their membership role is ``manager``; reviewers
and leads see only the queues they belong to. Inactive users have no role.
Anything outside a user's reach is filtered out of the querysets here, so
callers respond to it exactly as to a missing object.
"""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404

from bookbag.audit.models import AuditEvent, AuditEventQueue
from bookbag.tokens.models import ApiToken
from exports.models import ExportJob, WebhookDelivery, WebhookEndpoint
from rubrics.models import Rubric

from .models import Assignment, Queue, QueueMembership, Review, ReviewItem

logger = logging.getLogger(__name__)

OVERSEEING_ROLES = (QueueMembership.Role.LEAD, QueueMembership.Role.MANAGER)
RUBRIC_OBJECT_TYPES = ("rubrics.rubric", "rubrics.criterion")


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    return is_active_user(user) and user.is_superuser


def can_use_admin(user) -> bool:
    """Return whether ``user`` may sign in to the admin; what they see inside is decided per model."""
    return is_active_user(user) and user.is_staff


def is_manager(user) -> bool:
    if not is_active_user(user):
        return False
    return user.is_superuser or user.has_perm("reviews.manage_workspace")


def queues_visible(user) -> QuerySet[Queue]:
    """Return the queues ``user`` belongs to in any role (every queue for a superuser)."""
    if not is_active_user(user):
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
    if not is_active_user(user):
        return Queue.objects.none()
    if user.is_superuser:
        return Queue.objects.all()
    return Queue.objects.filter(memberships__user=user, memberships__role__in=OVERSEEING_ROLES).distinct()


def items_visible(user) -> QuerySet[ReviewItem]:
    """Return the items of the queues ``user`` belongs to, and for a superuser every item, unqueued ones included."""
    if not is_active_user(user):
        return ReviewItem.objects.none()
    if user.is_superuser:
        return ReviewItem.objects.all()
    return ReviewItem.objects.filter(queue__in=queues_visible(user))


def can_move_items(user) -> bool:
    """Return whether ``user`` may move items kept without a queue into a queue, which only an admin can see."""
    return is_admin(user)


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
    if not is_active_user(user):
        return Assignment.objects.none()
    if user.is_superuser:
        return Assignment.objects.all()
    return Assignment.objects.filter(_work_visible(user, "queue"))


def reviews_visible(user) -> QuerySet[Review]:
    if not is_active_user(user):
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
    """Return ``user``'s role in ``queue`` (manager for an admin), or None for a non-member or inactive user."""
    if not is_active_user(user):
        return None
    if user.is_superuser:
        return QueueMembership.Role.MANAGER
    membership = QueueMembership.objects.filter(queue=queue, user=user).only("role").first()
    return membership.role if membership else None


def can_review(user, queue: Queue) -> bool:
    return membership_role(user, queue) is not None


def can_manage(user, queue: Queue) -> bool:
    return is_manager(user) and membership_role(user, queue) == QueueMembership.Role.MANAGER


def can_adjudicate(user, queue: Queue) -> bool:
    return membership_role(user, queue) in (QueueMembership.Role.LEAD, QueueMembership.Role.MANAGER)


def can_adjudicate_any(user) -> bool:
    """Return whether ``user`` may open the adjudication pages, as a manager, an admin, or a lead of some queue.

    A manager who manages no queue may open them too, and finds them empty.
    """
    if is_manager(user):
        return True
    if not is_active_user(user):
        return False
    return QueueMembership.objects.filter(user=user, role__in=OVERSEEING_ROLES).exists()


def audit_queue_ids(instance) -> list[int]:
    """Return the ids of the queues that ``instance`` belongs to, which decide who may read its audit events.

    Rubrics, tokens, webhooks, users and items kept without a queue belong to none.
    """
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


def export_jobs_visible(user) -> QuerySet[ExportJob]:
    """Return the export jobs ``user`` may see and download: a manager's own, every job for an admin."""
    if not is_manager(user):
        return ExportJob.objects.none()
    if user.is_superuser:
        return ExportJob.objects.all()
    return ExportJob.objects.filter(requester=user)


def webhook_endpoints_visible(user) -> QuerySet[WebhookEndpoint]:
    """Return the webhook endpoints ``user`` may see and change: a manager's own, every one for an admin."""
    if not is_manager(user):
        return WebhookEndpoint.objects.none()
    if user.is_superuser:
        return WebhookEndpoint.objects.all()
    return WebhookEndpoint.objects.filter(owner=user)


def webhook_deliveries_visible(user) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=webhook_endpoints_visible(user))


def can_change_webhook_endpoint(user, endpoint: WebhookEndpoint | None) -> bool:
    """Return whether ``user`` may change ``endpoint``, or add endpoints when it is None."""
    if endpoint is None:
        return is_manager(user)
    return webhook_endpoints_visible(user).filter(pk=endpoint.pk).exists()


def tokens_visible(user) -> QuerySet[ApiToken]:
    """Return the API tokens ``user`` may see and revoke: their own, every token for an admin."""
    if not is_active_user(user):
        return ApiToken.objects.none()
    if user.is_superuser:
        return ApiToken.objects.all()
    return ApiToken.objects.filter(user=user)


def command_actor_default():
    """Return the user a management command acts as when none is named: the first active admin, or None."""
    return get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("id").first()


def denial_log(*, user, model: type[Model], object_id, channel: str) -> None:
    """Log ``access.denied`` when ``object_id`` names a row of ``model`` that ``user`` was refused.

    Callers respond to such a request exactly as to a missing row, so this log
    is the only trace that someone reached for an object outside their scope.
    A missing row or an id of the wrong type logs nothing.
    """
    try:
        exists = model._default_manager.filter(pk=object_id).exists()
    except (TypeError, ValueError, ValidationError):
        return
    if exists:
        logger.warning("access.denied", extra={
            "user_id": getattr(user, "pk", None), "object_type": model._meta.label_lower,
            "object_id": str(object_id), "channel": channel,
        })


def scoped_get_or_404(queryset: QuerySet, *, user, pk, channel: str = "admin"):
    """Return the row ``pk`` of ``queryset``, already narrowed to ``user``'s scope, or raise Http404.

    A row that exists outside the scope is logged by ``denial_log`` and gets the same 404.
    """
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        denial_log(user=user, model=queryset.model, object_id=pk, channel=channel)
        raise Http404(f"{queryset.model._meta.verbose_name.capitalize()} {pk} not found.")
    return obj
