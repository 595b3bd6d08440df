"""Every write on queues, items, assignments and reviews goes through here."""

from .assignments import assignment_claim, assignment_release, assignments_expire
from .items import IngestConflict, IngestOutcome, IngestResult, items_ingest
from .queues import membership_remove, membership_set, queue_create, queue_delete, queue_update
from .reviewing import review_adjudicate, review_submit

__all__ = [
    "IngestConflict",
    "IngestOutcome",
    "IngestResult",
    "assignment_claim",
    "assignment_release",
    "assignments_expire",
    "items_ingest",
    "membership_remove",
    "membership_set",
    "queue_create",
    "queue_delete",
    "queue_update",
    "review_adjudicate",
    "review_submit",
]
