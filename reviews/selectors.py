"""Reads of queues and items that more than one caller needs, with their joins applied."""

import datetime

from django.db.models import QuerySet

from .access import items_visible
from .models import ReviewItem


def item_list(
    *,
    user,
    queue: str | None = None,
    state: str | None = None,
    source: str | None = None,
    external_id: str | None = None,
    model: str | None = None,
    created_after: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
) -> QuerySet[ReviewItem]:
    """Return the items of the queues ``user`` belongs to, newest first, with their queue joined.

    The filters are those of ``items_filter``.
    """
    items = items_visible(user).select_related("queue")
    return items_filter(
        items, queue=queue, state=state, source=source, external_id=external_id, model=model,
        created_after=created_after, created_before=created_before,
    )


def items_filter(
    items: QuerySet[ReviewItem],
    *,
    queue: str | None = None,
    state: str | None = None,
    source: str | None = None,
    external_id: str | None = None,
    model: str | None = None,
    created_after: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
) -> QuerySet[ReviewItem]:
    """Narrow ``items`` by queue slug, state, source, external id, model and creation time.

    ``created_after`` is inclusive and ``created_before`` exclusive. A filter
    left as None does not apply.
    """
    lookups = {
        "queue__slug": queue, "state": state, "source": source, "external_id": external_id, "model": model,
        "created_at__gte": created_after, "created_at__lt": created_before,
    }
    return items.filter(**{lookup: value for lookup, value in lookups.items() if value is not None})
