from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record, snapshot

from .models import Criterion, Rubric

CRITERION_FIELDS = ("key", "label", "guidance", "kind", "min_value", "max_value", "options", "required", "weight")
RUBRIC_FIELDS = ("name", "slug", "version", "guidelines")


def _criteria_snapshot(rubric: Rubric) -> list[dict[str, Any]]:
    return [snapshot(criterion, CRITERION_FIELDS) for criterion in rubric.criteria.all()]


def _create_criteria(rubric: Rubric, criteria: list[dict[str, Any]]) -> None:
    keys = [spec.get("key") for spec in criteria]
    duplicated = {key for key in keys if keys.count(key) > 1}
    if duplicated:
        raise ValidationError({"criteria": f"Criterion key {sorted(duplicated)[0]!r} appears twice; keys must be unique."})
    for position, spec in enumerate(criteria):
        unknown = set(spec) - set(CRITERION_FIELDS) - {"position"}
        if unknown:
            raise ValidationError({"criteria": f"Criterion {spec.get('key')!r} has unknown field {sorted(unknown)[0]!r}."})
        criterion = Criterion(rubric=rubric, position=position, **{k: v for k, v in spec.items() if k != "position"})
        criterion.full_clean(exclude=["rubric"])
        criterion.save()


@transaction.atomic
def rubric_create(
    *, actor, name: str, slug: str, guidelines: str = "", criteria: list[dict[str, Any]] | None = None
) -> Rubric:
    """Create version 1 of a rubric with its criteria, in the given order."""
    if Rubric.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A rubric with slug {slug!r} exists already; edit it to make a new version."})
    rubric = Rubric(name=name, slug=slug, guidelines=guidelines, version=1, created_by=actor)
    rubric.full_clean()
    rubric.save()
    _create_criteria(rubric, criteria or [])

    audit_record(
        actor=actor,
        action="rubric.create",
        instance=rubric,
        after={**snapshot(rubric, RUBRIC_FIELDS), "criteria": _criteria_snapshot(rubric)},
    )
    return rubric


def rubric_is_frozen(rubric: Rubric) -> bool:
    """Return whether a review references this version, so it may not change in place."""
    from reviews.models import Review

    return Review.objects.filter(rubric=rubric).exists()


@transaction.atomic
def rubric_update(
    *,
    actor,
    rubric: Rubric,
    name: str | None = None,
    guidelines: str | None = None,
    criteria: list[dict[str, Any]] | None = None,
) -> Rubric:
    """Change a rubric, and return the version that now holds the change.

    A frozen version stays as it is: the change becomes version N+1 and every
    queue on version N moves to it.
    """
    from reviews.models import Queue

    before = {**snapshot(rubric, RUBRIC_FIELDS), "criteria": _criteria_snapshot(rubric)}
    latest = Rubric.objects.filter(slug=rubric.slug).order_by("-version").first()
    if latest is not None and latest.pk != rubric.pk:
        raise ValidationError(
            f"Rubric {rubric.slug!r} version {rubric.version} is not the latest (v{latest.version}); edit the latest."
        )

    if rubric_is_frozen(rubric):
        old_criteria = [snapshot(c, CRITERION_FIELDS) for c in rubric.criteria.all()]
        target = Rubric(
            name=rubric.name, slug=rubric.slug, guidelines=rubric.guidelines, version=rubric.version + 1, created_by=actor
        )
        if name is not None:
            target.name = name
        if guidelines is not None:
            target.guidelines = guidelines
        target.full_clean()
        target.save()
        _create_criteria(target, criteria if criteria is not None else old_criteria)
        moved = list(Queue.objects.filter(rubric=rubric).values_list("pk", flat=True))
        for queue in Queue.objects.filter(pk__in=moved):
            queue.rubric = target
            queue.save(update_fields=["rubric", "updated_at"])
            audit_record(
                actor=actor, action="queue.rubric_upgrade", instance=queue,
                before={"rubric": rubric.pk}, after={"rubric": target.pk},
            )
        action = "rubric.new_version"
    else:
        target = rubric
        if name is not None:
            target.name = name
        if guidelines is not None:
            target.guidelines = guidelines
        target.full_clean()
        target.save()
        if criteria is not None:
            target.criteria.all().delete()
            _create_criteria(target, criteria)
        action = "rubric.update"

    after = {**snapshot(target, RUBRIC_FIELDS), "criteria": _criteria_snapshot(target)}
    if after != before:
        audit_record(actor=actor, action=action, instance=target, before=before, after=after)
    return target
