"""Reads of reviewed items and export jobs that the services and the API share."""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.dateparse import parse_datetime

from bookbag.errors import NotFound
from reviews.access import export_jobs_visible
from reviews.models import Review, ReviewItem

from .filters import RUBRIC_VERSION_PATTERN, ExportFilters
from .models import ExportJob

FINAL_STATES = (ReviewItem.State.REVIEWED, ReviewItem.State.DONE)


def export_item_list(*, filters: ExportFilters) -> QuerySet[ReviewItem]:
    """Return the items whose final review ``filters`` select, by ascending id, with their joins.

    ``reviewed_after`` is inclusive and ``reviewed_before`` exclusive, so
    consecutive windows never share an item. ``since_export`` keeps items
    finalised (their last review or adjudication submitted) at or after the
    moment that job started building, so an item finalised while that job
    was starting can be in both bundles.

    NOTE: a review's time is taken when its transaction starts. A review
    whose transaction began before that job started but committed after its
    query (a window of milliseconds) is in neither bundle.
    """
    items = (
        ReviewItem.objects.filter(
            queue__slug__in=filters.queues, state__in=FINAL_STATES, final_review__isnull=False
        )
        .select_related("queue", "final_review__rubric", "final_review__reviewer")
        .order_by("id")
    )
    if filters.verdicts:
        items = items.filter(final_review__verdict__in=filters.verdicts)
    if filters.reviewers:
        items = items.filter(final_review__reviewer__username__in=filters.reviewers)
    if filters.rubric_versions:
        items = items.filter(_rubric_versions_q(filters.rubric_versions))
    if filters.reviewed_after:
        items = items.filter(final_review__submitted_at__gte=_moment(filters.reviewed_after))
    if filters.reviewed_before:
        items = items.filter(final_review__submitted_at__lt=_moment(filters.reviewed_before))
    if filters.sources:
        items = items.filter(source__in=filters.sources)
    if filters.models:
        items = items.filter(model__in=filters.models)
    if filters.item_ids:
        items = items.filter(pk__in=filters.item_ids)
    if filters.agreed_or_adjudicated:
        items = items.filter(_agreed_or_adjudicated_q())
    if filters.since_export:
        items = items.annotate(finalised_at=_finalised_at()).filter(
            finalised_at__gte=_job_build_start(filters.since_export)
        )
    return items


def _agreed_or_adjudicated_q() -> Q:
    # A reviewed item has several reviews only when they agreed; disagreement sends it to adjudication,
    # and only a lead's adjudication makes an item done.
    second_review = Review.objects.filter(item=OuterRef("pk"), kind=Review.Kind.REVIEW, is_current=True).exclude(
        pk=OuterRef("final_review_id")
    )
    return Q(state=ReviewItem.State.DONE) | Q(Exists(second_review), state=ReviewItem.State.REVIEWED)


def _finalised_at() -> Subquery:
    """Return when each item got its final verdict: the latest of its current reviews, adjudication included."""
    latest = Review.objects.filter(item=OuterRef("pk"), is_current=True).order_by("-submitted_at").values(
        "submitted_at"
    )[:1]
    return Subquery(latest)


def _rubric_versions_q(labels: list[str]) -> Q:
    condition = Q(pk__in=[])
    for label in labels:
        match = RUBRIC_VERSION_PATTERN.match(label)
        condition |= Q(final_review__rubric__slug=match["slug"], final_review__rubric__version=int(match["version"]))
    return condition


def _moment(value: str) -> datetime.datetime:
    return parse_datetime(value)


def _job_build_start(job_id: int) -> datetime.datetime:
    """Return when job ``job_id`` started building (when it was created, for a job never started)."""
    moments = ExportJob.objects.filter(pk=job_id).values_list("started_at", "created_at").first()
    if moments is None:
        raise NotFound(f"Export {job_id}, named by since_export, no longer exists; request a new export without it.")
    started_at, created_at = moments
    return started_at or created_at


def export_job_list(*, requester) -> QuerySet[ExportJob]:
    """Return the export jobs ``requester`` may see (``reviews.access.export_jobs_visible``), newest first."""
    return export_jobs_visible(requester).order_by("-created_at", "-id")
