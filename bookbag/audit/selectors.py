from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list(*, user) -> QuerySet[AuditEvent]:
    """Return the events ``user`` may read, newest first (see ``reviews.access.audit_events_visible``)."""
    from reviews.access import audit_events_visible

    return audit_events_visible(user).order_by("-id")
