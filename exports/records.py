"""Reviewed items read for an export as plain tuples of the columns the writers use.

An export reads every selected item once. Model instances would cost five
objects and seven decoded JSON columns per item where the writers need one
object and four JSON values, so the build reads ``ExportRecord`` tuples
instead: JSON columns arrive as text and are decoded with orjson.
"""

import datetime
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast

from reviews.models import ReviewItem

JSON_COLUMNS = ("conversation", "response", "reference_response", "tools")


class ExportRecord(NamedTuple):
    """One selected item with the columns of its final review that an export writes."""

    item_id: int
    source: str
    external_id: str
    model: str
    queue_slug: str
    conversation: Any
    response: Any
    reference_response: Any
    tools: Any
    is_pairwise: bool
    verdict: str
    corrected_response: str
    reviewer_id: int
    submitted_at: datetime.datetime
    rubric_slug: str
    rubric_version: int
    turn_index: int | None
    preferred: str


# The query expression of each ExportRecord field, in field order.
_COLUMNS = {
    "item_id": F("id"),
    "source": F("source"),
    "external_id": F("external_id"),
    "model": F("model"),
    "queue_slug": F("queue__slug"),
    **{name: Cast(name, output_field=TextField()) for name in JSON_COLUMNS},
    "is_pairwise": F("is_pairwise"),
    "verdict": F("final_review__verdict"),
    "corrected_response": F("final_review__corrected_response"),
    "reviewer_id": F("final_review__reviewer_id"),
    "submitted_at": F("final_review__submitted_at"),
    "rubric_slug": F("final_review__rubric__slug"),
    "rubric_version": F("final_review__rubric__version"),
    "turn_index": F("final_review__turn_index"),
    "preferred": F("final_review__preferred"),
}
_JSON_POSITIONS = tuple(ExportRecord._fields.index(name) for name in JSON_COLUMNS)


def export_record_iter(items: QuerySet[ReviewItem], *, chunk_size: int) -> Iterator[ExportRecord]:
    """Yield an ExportRecord per item of ``items``, in the queryset's order, reading ``chunk_size`` rows at a time."""
    rows = items.annotate(**{f"export_{name}": expression for name, expression in _COLUMNS.items()}).values_list(
        *(f"export_{name}" for name in _COLUMNS)
    )
    for row in rows.iterator(chunk_size=chunk_size):
        values = list(row)
        for position in _JSON_POSITIONS:
            values[position] = json_decode(values[position])
        yield ExportRecord(*values)


def json_decode(text: str | None) -> Any:
    """Decode a JSON column read as text; SQL NULL and JSON null are both None."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson rejects what Python's json module wrote for NaN and infinities, which SQLite keeps as text.
        return json.loads(text)


def record_from_item(item: ReviewItem) -> ExportRecord:
    """Return the record of ``item`` and its final review, as ``export_record_iter`` reads it."""
    review = item.final_review
    return ExportRecord(
        item_id=item.pk, source=item.source, external_id=item.external_id, model=item.model,
        queue_slug=item.queue.slug, conversation=item.conversation, response=item.response,
        reference_response=item.reference_response, tools=item.tools, is_pairwise=item.is_pairwise,
        verdict=review.verdict, corrected_response=review.corrected_response, reviewer_id=review.reviewer_id,
        submitted_at=review.submitted_at, rubric_slug=review.rubric.slug, rubric_version=review.rubric.version,
        turn_index=review.turn_index, preferred=review.preferred,
    )
