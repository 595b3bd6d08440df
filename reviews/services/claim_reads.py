"""The reads that every claim runs, written as SQL.

Building their querysets took longer than running them: about 1 ms of
Python each, against 0.3 to 0.5 ms in PostgreSQL, timed around single
claims on a 2-core machine. Each function returns model instances, as the
querysets did. On PostgreSQL the reads that pick rows to change lock them
with ``FOR UPDATE SKIP LOCKED``. SQLite has no row locks, so its IMMEDIATE
transactions serialise claims instead.
"""

import datetime
from collections.abc import Collection

from django.db import connection

from ..models import LIVE_ASSIGNMENT_STATES, Assignment, Queue, ReviewItem


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _skip_locked() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _placeholders(values: Collection) -> str:
    return ", ".join(["%s"] * len(values))


def claims_held_or_stale(queue: Queue, reviewer, now: datetime.datetime) -> list[Assignment]:
    """Return the claims of ``queue`` whose lease ended by ``now``, and ``reviewer``'s claims there, by id."""
    sql = (
        f"SELECT * FROM {_table(Assignment)} WHERE queue_id = %s AND state = %s"
        f" AND (expires_at <= %s OR reviewer_id = %s) ORDER BY id{_skip_locked()}"
    )
    moment = connection.ops.adapt_datetimefield_value(now)
    return list(Assignment.objects.raw(sql, [queue.pk, Assignment.State.CLAIMED, moment, reviewer.pk]))


def reservation_next(queue: Queue, reviewer) -> Assignment | None:
    """Return ``reviewer``'s reserved assignment in ``queue`` whose item has the highest priority, then the lowest id."""
    sql = (
        f"SELECT assignment.* FROM {_table(Assignment)} assignment"
        f" JOIN {_table(ReviewItem)} item ON item.id = assignment.item_id"
        " WHERE assignment.queue_id = %s AND assignment.reviewer_id = %s AND assignment.state = %s"
        " ORDER BY item.priority DESC, assignment.item_id LIMIT 1"
    )
    found = list(Assignment.objects.raw(sql, [queue.pk, reviewer.pk, Assignment.State.RESERVED]))
    return found[0] if found else None


def pool_item_next(queue: Queue, reviewer, exclude_item_ids: Collection[int] = ()) -> ReviewItem | None:
    """Return the open item of ``queue`` with a free slot, highest priority then oldest, locked on PostgreSQL.

    Items that another transaction has locked are passed over, and so are
    ``exclude_item_ids`` and, in queues with several slots per item, the
    items that ``reviewer`` already holds or reviewed.
    """
    conditions = ["queue_id = %s", "state IN (%s, %s)", "active_assignments < %s"]
    params: list = [queue.pk, ReviewItem.State.PENDING, ReviewItem.State.IN_REVIEW, queue.reviews_per_item]
    # With one slot per item, the reviewer's own live assignment fills an item's only
    # slot, so only overlapping queues need to leave out the reviewer's items.
    if queue.reviews_per_item > 1:
        conditions.append(
            f"id NOT IN (SELECT item_id FROM {_table(Assignment)}"
            f" WHERE reviewer_id = %s AND state IN ({_placeholders(LIVE_ASSIGNMENT_STATES)}))"
        )
        params += [reviewer.pk, *LIVE_ASSIGNMENT_STATES]
    if exclude_item_ids:
        excluded = sorted(set(exclude_item_ids))
        conditions.append(f"id NOT IN ({_placeholders(excluded)})")
        params += excluded

    sql = (
        f"SELECT * FROM {_table(ReviewItem)} WHERE {' AND '.join(conditions)}"
        f" ORDER BY priority DESC, id LIMIT 1{_skip_locked()}"
    )
    found = list(ReviewItem.objects.raw(sql, params))
    return found[0] if found else None
