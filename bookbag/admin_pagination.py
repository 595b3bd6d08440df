"""Changelist pagination that never counts a whole large table.

Django's changelist counts every matching row for its paginator and, unless
``show_full_result_count`` is off, every row of the table as well. On a
queue of a million items each count reads a million rows. This paginator
counts at most ``COUNT_LIMIT + 1`` rows, so a changelist costs the same
whatever the table's size, and the page shows "more than 10000 items" instead of
the exact number.
"""

from functools import cached_property

from django.core.paginator import Paginator

COUNT_LIMIT = 10_000


class LimitedCountPaginator(Paginator):
    """A paginator whose ``count`` stops at COUNT_LIMIT; ``count_is_limited`` is true when there are more rows."""

    count_is_limited = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: COUNT_LIMIT + 1].count()
        self.count_is_limited = counted > COUNT_LIMIT
        return min(counted, COUNT_LIMIT)
