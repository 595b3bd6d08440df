"""Marking items as gold: items with a known answer that reviewers are scored against unawares."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record, snapshot

from ..models import Review, ReviewItem
from .assigning import items_lock_managed

GOLD_FIELDS = ("is_gold", "gold_verdict", "gold_corrected_response", "gold_preferred")


def _check_answer(item: ReviewItem, *, verdict: str, corrected_response: str, preferred: str) -> None:
    if verdict not in Review.Verdict.values:
        raise ValidationError({"gold_verdict": f"Unknown verdict {verdict!r}; choose approved, needs_fix or rejected."})
    if verdict == Review.Verdict.NEEDS_FIX and not corrected_response.strip():
        raise ValidationError({"gold_corrected_response": "A needs_fix gold answer requires the corrected response text."})
    if item.is_pairwise and preferred not in Review.Preference.values:
        raise ValidationError({"gold_preferred": f"Item {item.pk} is pairwise; set the preferred candidate to a or b."})
    if not item.is_pairwise and preferred:
        raise ValidationError({"gold_preferred": f"Item {item.pk} has one candidate; leave preferred empty."})


@transaction.atomic
def item_mark_gold(
    *, actor, items: Iterable[ReviewItem], verdict: str, corrected_response: str = "", preferred: str = ""
) -> int:
    """Store the known answer of ``items`` and mark them gold; return how many changed.

    Reviewers claim and review gold items like any other. Raises
    PermissionDenied unless ``actor`` manages every item's queue, and
    ValidationError for an invalid answer.
    """
    changed = 0
    for item in items_lock_managed(actor, items):
        _check_answer(item, verdict=verdict, corrected_response=corrected_response, preferred=preferred)
        before = snapshot(item, GOLD_FIELDS)
        item.is_gold, item.gold_verdict, item.gold_preferred = True, verdict, preferred
        item.gold_corrected_response = corrected_response if verdict == Review.Verdict.NEEDS_FIX else ""
        if snapshot(item, GOLD_FIELDS) == before:
            continue
        item.save(update_fields=[*GOLD_FIELDS, "updated_at"])
        audit_record(actor=actor, action="item.mark_gold", instance=item, before=before, after=snapshot(item, GOLD_FIELDS))
        changed += 1
    return changed


@transaction.atomic
def item_unmark_gold(*, actor, items: Iterable[ReviewItem]) -> int:
    """Clear the gold answer of ``items``; return how many were gold."""
    changed = 0
    for item in items_lock_managed(actor, items):
        if not item.is_gold:
            continue
        before = snapshot(item, GOLD_FIELDS)
        item.is_gold, item.gold_verdict, item.gold_corrected_response, item.gold_preferred = False, "", "", ""
        item.save(update_fields=[*GOLD_FIELDS, "updated_at"])
        audit_record(actor=actor, action="item.unmark_gold", instance=item, before=before, after=snapshot(item, GOLD_FIELDS))
        changed += 1
    return changed
