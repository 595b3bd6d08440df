"""Deciding an item once it has all its reviews: agreement picks the final review, disagreement a lead.

Reviews disagree when their verdicts differ, when they judged different
turns or preferred different candidates, or when two needs_fix rewrites are
further apart than the queue's ``disagreement_threshold`` (``rewrite_distance``,
a word-level distance from 0 to 1).

When they agree, the final review is the earliest submitted one. For
needs_fix it is the rewrite closest to all the others (the smallest sum of
distances, the earliest on a tie), so one reviewer's outlying wording does
not become the training target.
"""

from collections.abc import Sequence
from itertools import combinations

from ..models import Review, ReviewItem
from ..rewrites import rewrite_distance


def reviews_disagree(reviews: Sequence[Review], *, threshold: float) -> bool:
    """Return whether ``reviews`` of one item need a lead's decision."""
    if len({(review.verdict, review.turn_index, review.preferred) for review in reviews}) > 1:
        return True
    rewrites = [review.corrected_response for review in reviews if review.verdict == Review.Verdict.NEEDS_FIX]
    return any(rewrite_distance(first, second) > threshold for first, second in combinations(rewrites, 2))


def review_agreed(reviews: Sequence[Review]) -> Review:
    """Return the review that stands for agreeing ``reviews``, ordered by submission time."""
    if reviews[0].verdict != Review.Verdict.NEEDS_FIX:
        return reviews[0]

    def total_distance(review: Review) -> float:
        return sum(rewrite_distance(review.corrected_response, other.corrected_response) for other in reviews)

    # min() keeps the first of equal totals, which is the earliest review.
    return min(reviews, key=total_distance)


def item_settle(item: ReviewItem) -> tuple[dict, dict] | None:
    """Set ``item``'s state and final review from its current reviews, and return the ``(before, after)`` change.

    An item short of ``reviews_per_item`` current reviews stays in review; an
    item a lead decided keeps that decision. Returns None when the item did
    not change; otherwise the caller records the change as an ``item.settle``
    audit event. The caller holds the item's row lock and has the queue loaded.
    """
    if item.state == ReviewItem.State.DONE:
        return None
    reviews = list(item.reviews.filter(kind=Review.Kind.REVIEW, is_current=True).order_by("submitted_at", "id"))
    if len(reviews) < item.queue.reviews_per_item:
        return None

    before = {"state": item.state, "final_review": item.final_review_id}
    if reviews_disagree(reviews, threshold=item.queue.disagreement_threshold):
        item.final_review = None
        item.state = ReviewItem.State.ADJUDICATION
    else:
        item.final_review = review_agreed(reviews)
        item.state = ReviewItem.State.REVIEWED
    after = {"state": item.state, "final_review": item.final_review_id}
    if after == before:
        return None
    item.save(update_fields=["final_review", "state", "updated_at"])
    return before, after
