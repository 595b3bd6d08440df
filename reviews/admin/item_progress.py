"""The item progress buckets that the manager dashboard and the workspace's queue bars both draw.

Reviewed items (every required review in, and the reviews agree) and done
items (a lead adjudicated them) both have a final review, and exports take
both (``exports.selectors.FINAL_STATES``), so both count as finished. The
finished segment's note gives how many of them a lead adjudicated.
"""

from ..models import ReviewItem

State = ReviewItem.State
FINISHED_STATES = (State.REVIEWED, State.DONE)

# Each bucket's key, label and the item states it counts, in the order the bars draw them.
PROGRESS_BUCKETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "finished": ("Finished", FINISHED_STATES),
    "adjudication": ("Awaiting adjudication", (State.ADJUDICATION,)),
    "in_review": ("In review", (State.IN_REVIEW,)),
    "pending": ("Pending", (State.PENDING,)),
}
PROGRESS_LABELS = {key: label for key, (label, _states) in PROGRESS_BUCKETS.items()}


def bucket_counts(state_counts: dict[str, int]) -> dict[str, int]:
    """Add up item counts per state (missing states count 0) into counts per progress bucket."""
    return {
        key: sum(state_counts.get(state, 0) for state in states) for key, (_label, states) in PROGRESS_BUCKETS.items()
    }


def finished_detail(adjudicated: int) -> str:
    """Return the finished segment's note, which gives how many of its items a lead adjudicated."""
    return f"{adjudicated} adjudicated"
