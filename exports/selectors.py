"""Reads of reviewed items and export jobs that the services and the API share."""

import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from bookbag.errors import NotFound
from reviews.models import ReviewItem

from .filters import RUBRIC_VERSION_PATTERN, ExportFilters
from .models import ExportJob

FINAL_STATES = (ReviewItem.State.REVIEWED, ReviewItem.State.DONE)


def export_item_list(*, filters: ExportFilters) -> QuerySet[ReviewItem]:
    """Return the items whose final review ``filters`` select, by ascending id, with their joins.

    ``reviewed_after`` is inclusive and ``reviewed_before`` exclusive, so
    consecutive windows never share an item. ``since_export`` keeps items
    whose final review was submitted after that job was created.
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
    if filters.item_ids:
        items = items.filter(pk__in=filters.item_ids)
    if filters.since_export:
        items = items.filter(final_review__submitted_at__gt=_job_created_at(filters.since_export))
    return items


def _rubric_versions_q(labels: list[str]) -> Q:
    condition = Q(pk__in=[])
    for label in labels:
        match = RUBRIC_VERSION_PATTERN.match(label)
        condition |= Q(final_review__rubric__slug=match["slug"], final_review__rubric__version=int(match["version"]))
    return condition


def _moment(value: str) -> datetime.datetime:
    return parse_datetime(value)


def _job_created_at(job_id: int) -> datetime.datetime:
    created_at = ExportJob.objects.filter(pk=job_id).values_list("created_at", flat=True).first()
    if created_at is None:
        raise NotFound(f"Export {job_id}, named by since_export, no longer exists; request a new export without it.")
    return created_at


def export_job_list(*, requester) -> QuerySet[ExportJob]:
    """Return ``requester``'s own export jobs, newest first."""
    return ExportJob.objects.filter(requester=requester).order_by("-created_at", "-id")
