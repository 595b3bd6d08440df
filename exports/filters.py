"""Checking and normalising the filters of an export request.

The normalised filters are stored on the job as JSON, so a job can be built
again from its row alone and the manifest shows exactly what was selected.
"""

import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from bookbag.errors import NotFound, ValidationErrors
from reviews.access import export_jobs_visible, queues_managed
from reviews.models import Queue, Review, ReviewItem
from rubrics.models import Rubric

from .models import ExportJob

FILTER_KEYS = (
    "queues", "verdicts", "reviewers", "rubric_versions", "reviewed_after", "reviewed_before", "since_export",
    "sources", "models", "agreed_or_adjudicated", "item_ids",
)
MAX_ITEM_IDS = 10_000
RUBRIC_VERSION_PATTERN = re.compile(r"^(?P<slug>[-a-zA-Z0-9_]+)@(?P<version>[1-9][0-9]*)$")


@dataclass(frozen=True)
class ExportFilters:
    """Selection of final reviews for an export. An empty list means no restriction, except for ``queues``.

    ``agreed_or_adjudicated`` keeps only items that more than one reviewer
    judged alike, or that a lead decided after the reviewers disagreed.
    ``item_ids`` keeps only the listed items, such as an admin selection.
    """

    queues: list[str]
    verdicts: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    rubric_versions: list[str] = field(default_factory=list)
    reviewed_after: str | None = None
    reviewed_before: str | None = None
    since_export: int | None = None
    sources: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    agreed_or_adjudicated: bool = False
    item_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ExportFilters":
        return cls(**{key: data.get(key) for key in FILTER_KEYS if key in data})


def filters_clean(*, requester, raw: Any) -> tuple[ExportFilters, list[Queue]]:
    """Check ``raw`` request filters and return them normalised, with the queues they name.

    Without ``queues`` the export covers every queue ``requester`` manages.
    Raises NotFound for a queue slug or ``since_export`` job the requester
    cannot see, and ValidationError, keyed by filter, listing every invalid filter.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"filters": "Filters must be an object such as {\"queues\": [\"support\"]}."})
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise ValidationError({"filters": f"Unknown filter {unknown[0]!r}; use {', '.join(FILTER_KEYS)}."})

    errors = ValidationErrors()
    queues = errors.check(lambda: _queues_clean(requester, _string_list(raw, "queues")), default=[])
    after = errors.check(_moment, raw, "reviewed_after")
    before = errors.check(_moment, raw, "reviewed_before")
    if after and before and after >= before:
        errors.add("reviewed_before", "reviewed_before must be later than reviewed_after.")
    cleaned = {
        "verdicts": errors.check(lambda: _verdicts_clean(_string_list(raw, "verdicts"))),
        "reviewers": errors.check(lambda: _reviewers_clean(_string_list(raw, "reviewers"))),
        "rubric_versions": errors.check(lambda: _rubric_versions_clean(_string_list(raw, "rubric_versions"))),
        "since_export": errors.check(_since_export_clean, requester, raw.get("since_export")),
        "sources": errors.check(_string_list, raw, "sources"),
        "models": errors.check(_string_list, raw, "models"),
        "agreed_or_adjudicated": errors.check(_flag, raw, "agreed_or_adjudicated"),
        # Item ids are checked against the queues, so they wait until the queues are valid.
        "item_ids": errors.check(_item_ids_clean, raw.get("item_ids"), queues) if queues else None,
    }
    errors.raise_any()

    filters = ExportFilters(
        queues=sorted(queue.slug for queue in queues),
        reviewed_after=after.isoformat() if after else None,
        reviewed_before=before.isoformat() if before else None,
        **cleaned,
    )
    return filters, queues


def _string_list(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(entry, str) and entry for entry in value):
        raise ValidationError({key: f"{key} must be a list of non-empty strings, not {value!r}."})
    return sorted(set(value))


def _flag(raw: dict[str, Any], key: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError({key: f"{key} must be true or false, not {value!r}."})
    return value


def _queues_clean(requester, slugs: list[str]) -> list[Queue]:
    managed = queues_managed(requester)
    if not slugs:
        queues = list(managed.order_by("slug"))
        if not queues:
            raise ValidationError({"queues": "You manage no queues, so there is nothing to export."})
        return queues

    found = {queue.slug: queue for queue in managed.filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise NotFound(f"Queue {slug!r} not found among the queues you manage; check the slug.")
    return [found[slug] for slug in slugs]


def _verdicts_clean(verdicts: list[str]) -> list[str]:
    for verdict in verdicts:
        if verdict not in Review.Verdict.values:
            raise ValidationError(
                {"verdicts": f"Unknown verdict {verdict!r}; choose from {', '.join(Review.Verdict.values)}."}
            )
    return verdicts


def _reviewers_clean(usernames: list[str]) -> list[str]:
    User = get_user_model()
    known = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    for username in usernames:
        if username not in known:
            raise ValidationError({"reviewers": f"Reviewer {username!r} not found; check the username."})
    return usernames


def _rubric_versions_clean(labels: list[str]) -> list[str]:
    for label in labels:
        match = RUBRIC_VERSION_PATTERN.match(label)
        if match is None:
            raise ValidationError(
                {"rubric_versions": f"Rubric version {label!r} is invalid; write it as slug@version, "
                                    "e.g. helpfulness@2."}
            )
        if not Rubric.objects.filter(slug=match["slug"], version=int(match["version"])).exists():
            raise ValidationError({"rubric_versions": f"Rubric version {label!r} not found."})
    return labels


def _moment(raw: dict[str, Any], key: str) -> datetime.datetime | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
            if parsed is None and parse_date(value) is not None:
                parsed = datetime.datetime.combine(parse_date(value), datetime.time.min)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError(
            {key: f"{key} {value!r} is invalid; use an ISO 8601 date or time such as 2026-05-01T00:00:00Z."}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    try:
        return parsed.astimezone(datetime.UTC)
    except OverflowError:
        raise ValidationError(
            {key: f"{key} {value!r} is out of range; use a time between the years 1 and 9999 in UTC."}
        ) from None


def _since_export_clean(requester, value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationError({"since_export": f"since_export must be an export job id, not {value!r}."})
    job_id = int(value)
    state = export_jobs_visible(requester).filter(pk=job_id).values_list("state", flat=True).first()
    if state is None:
        raise NotFound(f"Export {job_id} not found among your exports; since_export names one of your own jobs.")
    if state != ExportJob.State.SUCCEEDED:
        raise ValidationError({"since_export": (
            f"Export {job_id} is {state}; since_export needs a succeeded export, because the new bundle "
            "starts where that one's selection ended."
        )})
    return job_id


def _item_ids_clean(value: Any, queues: list[Queue]) -> list[int]:
    if value in (None, []):
        return []
    if not isinstance(value, list) or not all(_is_item_id(entry) for entry in value):
        raise ValidationError({"item_ids": f"item_ids must be a list of item ids, not {value!r}."})
    item_ids = sorted(set(value))
    if len(item_ids) > MAX_ITEM_IDS:
        raise ValidationError({"item_ids": f"item_ids lists {len(item_ids)} items; list at most {MAX_ITEM_IDS}, "
                                           "or select whole queues with the other filters."})
    found = set(ReviewItem.objects.filter(pk__in=item_ids, queue__in=queues).values_list("pk", flat=True))
    missing = [item_id for item_id in item_ids if item_id not in found]
    if missing:
        raise NotFound(f"Item {missing[0]} not found in the exported queues; check the id and the queues filter.")
    return item_ids


def _is_item_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
