"""Choosing the queue for an item that arrives without one."""

import logging

from ..ingest.records import ItemRecord
from ..models import Queue
from ..routing import rules_match, sample_point

logger = logging.getLogger(__name__)


def item_route(*, item: ItemRecord) -> Queue | None:
    """Return the active queue that takes ``item``, or None when no queue does.

    A queue takes an item that matches its ``routing_rules`` and whose
    ``sample_point`` is below its ``sampling_rate``. When several queues
    would take it, the oldest queue (lowest id) wins. Ingestion calls this
    for each record sent without a queue and then passes the records to
    ``items_ingest`` grouped by queue.
    """
    point = sample_point(source=item.source, external_id=item.external_id)
    for queue in Queue.objects.filter(is_active=True, sampling_rate__gt=point).exclude(routing_rules={}).order_by("id"):
        if rules_match(queue.routing_rules, source=item.source, model=item.model, metadata=item.metadata):
            return queue
    logger.debug("item.unrouted", extra={"source": item.source, "external_id": item.external_id})
    return None
