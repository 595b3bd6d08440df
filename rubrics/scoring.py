"""Validation of criterion scores against a rubric version."""

from typing import Any

from django.core.exceptions import ValidationError

from .models import Criterion, Rubric


def _check_score(criterion: Criterion, value: Any) -> str | None:
    if criterion.kind == Criterion.Kind.PASS_FAIL:
        if not isinstance(value, bool):
            return f"Score for {criterion.key!r} must be true or false, not {value!r}."
    elif criterion.kind == Criterion.Kind.SCALE:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"Score for {criterion.key!r} must be an integer, not {value!r}."
        if not criterion.min_value <= value <= criterion.max_value:
            return (
                f"Score for {criterion.key!r} must be between {criterion.min_value} and "
                f"{criterion.max_value}, not {value}."
            )
    elif value not in criterion.options:
        return f"Score for {criterion.key!r} must be one of {', '.join(criterion.options)}, not {value!r}."
    return None


def scores_clean(*, rubric: Rubric, scores: dict[str, Any]) -> dict[str, Any]:
    """Return ``scores`` checked against ``rubric``'s criteria, without empty optional scores.

    Raises ValidationError naming the first unknown key, missing required
    criterion or out-of-range value.
    """
    if not isinstance(scores, dict):
        raise ValidationError({"scores": "Scores must be an object keyed by criterion key."})
    criteria = {criterion.key: criterion for criterion in rubric.criteria.all()}
    unknown = sorted(set(scores) - set(criteria))
    if unknown:
        raise ValidationError(
            {"scores": f"Unknown criterion {unknown[0]!r}; rubric {rubric.label} has {', '.join(criteria) or 'none'}."}
        )

    cleaned = {}
    for key, criterion in criteria.items():
        value = scores.get(key)
        if value is None or value == "":
            if criterion.required:
                raise ValidationError({"scores": f"Criterion {key!r} is required; give it a score."})
            continue
        problem = _check_score(criterion, value)
        if problem:
            raise ValidationError({"scores": problem})
        cleaned[key] = value
    return cleaned
