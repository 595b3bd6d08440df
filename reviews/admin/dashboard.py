"""The manager dashboard on the admin index: progress, throughput, verdicts, time and agreement per queue.

Verdicts, times and agreement use each reviewer's current review of an
item (not the revisions it replaced). Throughput counts each judgement
once, on the day of its latest revision. Each figure takes one query over all of
the manager's queues, so the page runs the same number of queries whatever
the number of queues, items or reviews. Counts and medians are aggregated
in the database. Agreement needs the individual scores, so it reads at
most ``AGREEMENT_REVIEW_LIMIT`` reviews per queue, those of the queue's
newest items, and computes the statistics in Python.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from rubrics.models import Criterion

from .. import metrics
from ..access import is_manager, queues_managed
from ..models import Queue, Review, ReviewItem
from .dashboard_charts import Bar, Column, StackedBar, bars_scale, columns, stacked_bar
from .item_progress import PROGRESS_LABELS, bucket_counts, finished_detail

THROUGHPUT_DAYS = 14
# Agreement reads the scores of this many reviews per queue, from its newest items back.
AGREEMENT_REVIEW_LIMIT = 4000
VERDICT_LABELS = dict(Review.Verdict.choices)


@dataclass
class CriterionAgreement:
    """Agreement on one criterion (or the verdict) across the items that more than one reviewer judged."""

    label: str
    level: str
    units: int
    kappa: float | None
    alpha: float | None
    alpha_bar: Bar | None = None


@dataclass
class QueueStats:
    queue: Queue
    progress: StackedBar
    verdicts: StackedBar
    median_seconds: float | None = None
    median_bar: Bar | None = None
    agreement: list[CriterionAgreement] = field(default_factory=list)
    rewrite_agreement: float | None = None
    rewrite_pairs: int = 0


@dataclass
class ReviewerThroughput:
    username: str
    days: list[Column]
    total: int


def dashboard_context(request) -> dict:
    """Return the index template's ``dashboard`` entry for a manager, and nothing for anyone else."""
    if not is_manager(request.user):
        return {}
    return {"dashboard": dashboard_build(user=request.user)}


def dashboard_build(*, user, now: datetime.datetime | None = None) -> dict:
    """Return the figures of every queue ``user`` manages, and their reviewers' daily throughput."""
    now = now or timezone.now()
    queues = list(
        queues_managed(user).select_related("rubric").prefetch_related("rubric__criteria").order_by("name", "id")
    )
    queue_ids = [queue.pk for queue in queues]
    states = _state_counts(queue_ids)
    verdicts = _verdict_counts(queue_ids)
    stats = [
        QueueStats(
            queue=queue,
            progress=_progress_bar(states[queue.pk]),
            verdicts=stacked_bar({key: verdicts[queue.pk][key] for key in VERDICT_LABELS}, VERDICT_LABELS),
        )
        for queue in queues
    ]
    _medians_add(stats)
    _agreement_add(stats)
    days, reviewers = _throughput(queue_ids, now=now)
    return {"queues": stats, "days": days, "reviewers": reviewers, "throughput_days": THROUGHPUT_DAYS,
            "agreement_review_limit": AGREEMENT_REVIEW_LIMIT}


def _state_counts(queue_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count items per queue and state, grouped in the database. A state without items is missing."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        ReviewItem.objects.filter(queue_id__in=queue_ids)
        .values_list("queue_id", "state")
        .annotate(total=Count("id"))
        .order_by()
    )
    for queue_id, state, total in rows:
        counts[queue_id][state] = total
    return counts


def _progress_bar(state_counts: dict[str, int]) -> StackedBar:
    adjudicated = state_counts.get(ReviewItem.State.DONE, 0)
    return stacked_bar(bucket_counts(state_counts), PROGRESS_LABELS, {"finished": finished_detail(adjudicated)})


def _verdict_counts(queue_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count reviewers' verdicts per queue (lead decisions excluded), grouped in the database."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(VERDICT_LABELS, 0))
    rows = (
        Review.objects.filter(item__queue_id__in=queue_ids, kind=Review.Kind.REVIEW, is_current=True)
        .values_list("item__queue_id", "verdict")
        .annotate(total=Count("id"))
        .order_by()
    )
    for queue_id, verdict, total in rows:
        counts[queue_id][verdict] += total
    return counts


def _medians_add(stats: list[QueueStats]) -> None:
    """Set each queue's median time per review, from the one or two middle rows that the database returns.

    Reviews with no recorded time (0 seconds, as API clients may send) are
    left out, so they do not pull the median down.
    """
    partition = F("item__queue_id")
    middle_rows = (
        Review.objects.filter(
            item__queue_id__in=[entry.queue.pk for entry in stats], kind=Review.Kind.REVIEW, is_current=True,
            time_spent_seconds__gt=0,
        )
        .annotate(
            queue_key=partition,
            position=Window(RowNumber(), partition_by=[partition], order_by=F("time_spent_seconds").asc()),
            size=Window(Count("id"), partition_by=[partition]),
        )
        # Positions (n + 1) // 2 and (n + 2) // 2: one row for odd n, the two middle rows for even n.
        .filter(position__gte=(F("size") + 1) / 2, position__lte=(F("size") + 2) / 2)
        .values_list("queue_key", "time_spent_seconds")
    )
    middles: dict[int, list[int]] = defaultdict(list)
    for queue_id, seconds in middle_rows:
        middles[queue_id].append(seconds)

    for entry in stats:
        values = middles.get(entry.queue.pk)
        entry.median_seconds = sum(values) / len(values) if values else None
    scale = bars_scale(entry.median_seconds or 0 for entry in stats)
    for entry in stats:
        entry.median_bar = scale(entry.median_seconds) if entry.median_seconds is not None else None


def _agreement_rows(queue_ids: list[int]):
    """Return (queue, item, reviewer, verdict, scores, rewrite) of the newest reviews per queue, up to the limit."""
    partition = F("item__queue_id")
    return (
        Review.objects.filter(item__queue_id__in=queue_ids, kind=Review.Kind.REVIEW, is_current=True)
        .annotate(
            queue_key=partition,
            recency=Window(RowNumber(), partition_by=[partition], order_by=[F("item_id").desc(), F("id").asc()]),
        )
        .filter(recency__lte=AGREEMENT_REVIEW_LIMIT)
        .values_list("queue_key", "item_id", "reviewer_id", "verdict", "scores", "corrected_response")
    )


def _agreement_add(stats: list[QueueStats]) -> None:
    """Compute agreement per criterion and rewrite agreement for queues with more than one review per item."""
    overlapping = {entry.queue.pk: entry for entry in stats if entry.queue.reviews_per_item > 1}
    if not overlapping:
        return
    reviews_by_queue: dict[int, dict[int, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for queue_id, item_id, reviewer_id, verdict, scores, rewrite in _agreement_rows(list(overlapping)):
        reviews_by_queue[queue_id][item_id].append((reviewer_id, verdict, scores or {}, rewrite))

    for queue_id, entry in overlapping.items():
        items = reviews_by_queue.get(queue_id, {})
        reviewers = {review[0] for reviews in items.values() for review in reviews}
        entry.agreement = [_criterion_agreement("Verdict", "nominal", items, lambda review: review[1], reviewers)]
        for criterion in entry.queue.rubric.criteria.all():
            level = "interval" if criterion.kind == Criterion.Kind.SCALE else "nominal"
            entry.agreement.append(_criterion_agreement(
                criterion.label, level, items, lambda review, key=criterion.key: review[2].get(key), reviewers
            ))
        rewrite_groups = [
            [review[3] for review in reviews if review[1] == Review.Verdict.NEEDS_FIX] for reviews in items.values()
        ]
        entry.rewrite_agreement = metrics.rewrite_agreement(rewrite_groups)
        entry.rewrite_pairs = sum(len(group) * (len(group) - 1) // 2 for group in rewrite_groups)


def _criterion_agreement(label: str, level: str, items: dict, value_of, reviewers: set[int]) -> CriterionAgreement:
    """Return alpha over every item's values, and kappa too when exactly two reviewers did all the reviewing."""
    units = [[value_of(review) for review in reviews] for reviews in items.values()]
    pairable = sum(1 for unit in units if sum(value is not None for value in unit) >= 2)
    alpha = metrics.krippendorff_alpha(units, level=level)

    kappa = None
    if len(reviewers) == 2:
        first, second = sorted(reviewers)
        pairs = []
        for reviews in items.values():
            by_reviewer = {review[0]: value_of(review) for review in reviews}
            if by_reviewer.get(first) is not None and by_reviewer.get(second) is not None:
                pairs.append((by_reviewer[first], by_reviewer[second]))
        kappa = metrics.cohen_kappa(pairs)
    alpha_bar = Bar(value=alpha, share=max(alpha, 0.0)) if alpha is not None else None
    return CriterionAgreement(label=label, level=level, units=pairable, kappa=kappa, alpha=alpha, alpha_bar=alpha_bar)


def _throughput(queue_ids: list[int], *, now: datetime.datetime) -> tuple[list[datetime.date], list[ReviewerThroughput]]:
    """Count each reviewer's judgements per day over the last ``THROUGHPUT_DAYS`` days, today included.

    Reviews and lead decisions count. A revision replaces the review it
    supersedes, so a revised review counts once, on the day of its latest revision.
    """
    today = timezone.localdate(now)
    days = [today - datetime.timedelta(days=offset) for offset in range(THROUGHPUT_DAYS - 1, -1, -1)]
    since = timezone.make_aware(datetime.datetime.combine(days[0], datetime.time.min))
    rows = (
        Review.objects.filter(item__queue_id__in=queue_ids, submitted_at__gte=since, superseded_by__isnull=True)
        .annotate(day=TruncDate("submitted_at"))
        .values_list("reviewer__username", "day")
        .annotate(total=Count("id"))
        .order_by()
    )
    per_reviewer: dict[str, dict[datetime.date, int]] = defaultdict(dict)
    for username, day, total in rows:
        per_reviewer[username][day] = total

    scale = bars_scale(total for counts in per_reviewer.values() for total in counts.values())
    labels = [day.isoformat() for day in days]
    reviewers = [
        ReviewerThroughput(
            username=username,
            days=columns([scale(counts.get(day, 0)) for day in days], labels),
            total=sum(counts.values()),
        )
        for username, counts in sorted(per_reviewer.items(), key=lambda pair: (-sum(pair[1].values()), pair[0]))
    ]
    return days, reviewers
