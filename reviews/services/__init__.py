"""Every write on queues, items, assignments and reviews goes through here."""

from .assigning import AssignResult, assignment_assign, item_priority_set
from .assignments import assignment_claim, assignment_release, assignments_expire
from .gold import item_mark_gold, item_unmark_gold
from .items import IngestConflict, IngestOutcome, IngestResult, items_ingest, items_ingest_routed
from .moving import MoveResult, items_move
from .queues import membership_remove, membership_set, queue_create, queue_delete, queue_update
from .rereview import items_rereview
from .reviewing import review_adjudicate, review_submit
from .revisions import review_edit_deadline, review_revise, review_revise_problem
from .routing import item_route, routing_queues

__all__ = [
    "AssignResult",
    "IngestConflict",
    "IngestOutcome",
    "IngestResult",
    "MoveResult",
    "assignment_assign",
    "assignment_claim",
    "assignment_release",
    "assignments_expire",
    "item_mark_gold",
    "item_priority_set",
    "item_route",
    "item_unmark_gold",
    "items_ingest",
    "items_ingest_routed",
    "items_move",
    "items_rereview",
    "membership_remove",
    "membership_set",
    "queue_create",
    "queue_delete",
    "queue_update",
    "review_adjudicate",
    "review_edit_deadline",
    "review_revise",
    "review_revise_problem",
    "review_submit",
    "routing_queues",
]
