"""Choosing the queue for an item that arrives without one."""

import logging
from collections.abc import Sequence

from ..access import queues_managed
from ..ingest.records import ItemRecord
from ..models import Queue
from ..routing import rules_match, sample_point

logger = logging.getLogger(__name__)


def routing_queues(*, actor) -> list[Queue]:
    """Return the active queues with routing rules that may take items sent by ``actor``, oldest first.

    A user's items go only to queues they manage. None stands for the system
    (a shell command run without ``--as``), whose items may go to any queue.
    """
    queues = Queue.objects.filter(is_active=True).exclude(routing_rules={})
    if actor is not None:
        queues = queues.filter(pk__in=queues_managed(actor))
    return list(queues.order_by("id"))


def item_route(*, item: ItemRecord, queues: Sequence[Queue] | None = None) -> Queue | None:
    """Return the queue that takes ``item``, or None when no queue does.

    A queue takes an item that matches its ``routing_rules`` and whose
    ``sample_point`` is below its ``sampling_rate``. When several queues
    would take it, the oldest queue (lowest id) wins. ``queues`` are the
    candidates from ``routing_queues``, so that a batch reads them once;
    without them every active queue is a candidate.
    """
    if queues is None:
        queues = routing_queues(actor=None)
    point = sample_point(source=item.source, external_id=item.external_id)
    for queue in queues:
        if point < queue.sampling_rate and rules_match(
            queue.routing_rules, source=item.source, model=item.model, metadata=item.metadata
        ):
            return queue
    logger.debug("item.unrouted", extra={"source": item.source, "external_id": item.external_id})
    return None
