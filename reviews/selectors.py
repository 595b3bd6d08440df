"""Reads of queues and items that more than one caller needs, with their joins applied."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .access import can_review, can_see_others_reviews, items_visible
from .models import Queue, Review, ReviewItem
from .rewrites import rewrite_distance


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


def item_review_list(*, user, item: ReviewItem, include_history: bool = False) -> QuerySet[Review]:
    """Return the reviews of ``item`` that ``user`` may see, oldest first, with reviewer and rubric joined.

    In a blind queue a reviewer gets only their own reviews until they have
    submitted one (``can_see_others_reviews``); an outsider gets none. Only
    current reviews and adjudications count unless ``include_history``
    adds earlier revisions and reviews from before a re-review.
    """
    if not can_review(user, item.queue):
        return Review.objects.none()
    reviews = Review.objects.filter(item=item).select_related("reviewer", "rubric").order_by("submitted_at", "id")
    if not include_history:
        reviews = reviews.filter(is_current=True)
    if not can_see_others_reviews(user, item):
        reviews = reviews.filter(reviewer=user)
    return reviews


@dataclass(frozen=True)
class GoldAccuracy:
    """One reviewer's current reviews of gold items and how many match the known answer."""

    reviewer_id: int
    username: str
    gold_reviews: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.gold_reviews


def review_matches_gold(review: Review, item: ReviewItem) -> bool:
    """Return whether ``review`` gives ``item``'s gold answer.

    The verdict and, on a pairwise item, the preferred candidate must be
    equal; a needs_fix rewrite must be within the queue's
    ``disagreement_threshold`` of the gold rewrite.
    """
    if review.verdict != item.gold_verdict or review.preferred != item.gold_preferred:
        return False
    if review.verdict != Review.Verdict.NEEDS_FIX:
        return True
    distance = rewrite_distance(review.corrected_response, item.gold_corrected_response)
    return distance <= item.queue.disagreement_threshold


def gold_accuracy_list(*, queue: Queue) -> list[GoldAccuracy]:
    """Return each reviewer's accuracy on the gold items of ``queue``, best first, then by username.

    Only current reviews count, so a revision replaces its earlier answer.
    Reviewers without a gold review are left out.
    """
    reviews = (
        Review.objects.filter(item__queue=queue, item__is_gold=True, kind=Review.Kind.REVIEW, is_current=True)
        .select_related("item__queue", "reviewer")
    )
    totals: dict[int, list] = {}
    for review in reviews.iterator(chunk_size=2000):
        entry = totals.setdefault(review.reviewer_id, [review.reviewer.get_username(), 0, 0])
        entry[1] += 1
        entry[2] += review_matches_gold(review, review.item)
    rows = [GoldAccuracy(reviewer_id=pk, username=name, gold_reviews=count, correct=correct)
            for pk, (name, count, correct) in totals.items()]
    return sorted(rows, key=lambda row: (-row.accuracy, row.username))


def item_stale_rubric_list(*, queue: Queue) -> QuerySet[ReviewItem]:
    """Return the reviewed items of ``queue`` whose final or current reviews used an older rubric version.

    Older means a version of the same slug below the queue's current one;
    ``items_rereview`` sends these items back.
    """
    older = Q(reviews__rubric__slug=queue.rubric.slug, reviews__rubric__version__lt=queue.rubric.version)
    stale = ReviewItem.objects.filter(older, queue=queue, reviews__is_current=True).values("pk")
    return (
        ReviewItem.objects.filter(pk__in=stale)
        .exclude(state__in=[ReviewItem.State.PENDING, ReviewItem.State.IN_REVIEW])
        .select_related("queue", "final_review__rubric")
        .order_by("id")
    )
