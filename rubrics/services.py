"""Creating, versioning and deleting rubrics.

A version that any review references is frozen: editing it creates version
N+1 and moves every queue on version N to it, so each review keeps the exact
criteria it was scored against.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bookbag.audit.services import audit_record, snapshot
from bookbag.errors import Conflict, PermissionDenied

from .models import Criterion, Rubric

CRITERION_FIELDS = ("key", "label", "guidance", "kind", "min_value", "max_value", "options", "required", "weight")
RUBRIC_FIELDS = ("name", "slug", "version", "guidelines")
# The rubric fields an edit may change. Slug and version identify a version and stay fixed.
CONTENT_FIELDS = ("name", "guidelines")


def _require_manager(actor, verb: str) -> None:
    from reviews.access import is_manager

    if not is_manager(actor):
        raise PermissionDenied(f"Only managers {verb} rubrics; ask an administrator for the manage_workspace permission.")


def _criteria_snapshot(criteria) -> list[dict[str, Any]]:
    return [snapshot(criterion, CRITERION_FIELDS) for criterion in criteria]


def _rubric_snapshot(rubric: Rubric) -> dict[str, Any]:
    return {**snapshot(rubric, RUBRIC_FIELDS), "criteria": _criteria_snapshot(rubric.criteria.all())}


def _criterion_errors(index: int, error: ValidationError) -> ValidationError:
    """Prefix each message of a criterion's ValidationError with its position in the list."""
    messages = []
    for field, field_messages in error.message_dict.items():
        where = f"criteria[{index}]" if field == "__all__" else f"criteria[{index}].{field}"
        messages.extend(f"{where}: {message}" for message in field_messages)
    return ValidationError({"criteria": messages})


def _build_criteria(specs: list[dict[str, Any]]) -> list[Criterion]:
    """Return validated, unsaved criteria in the given order.

    Raises ValidationError naming the position of the first criterion with a
    duplicate key, an unknown field or an invalid value.
    """
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        raise ValidationError({"criteria": "Criteria must be a list of objects."})
    keys = [spec.get("key") for spec in specs]
    duplicated = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValidationError({"criteria": f"Criterion key {duplicated[0]!r} appears twice; keys must be unique."})

    criteria = []
    for index, spec in enumerate(specs):
        unknown = sorted(set(spec) - set(CRITERION_FIELDS) - {"position"})
        if unknown:
            raise ValidationError({"criteria": f"criteria[{index}]: unknown field {unknown[0]!r}."})
        values = {name: value for name, value in spec.items() if name != "position"}
        criterion = Criterion(position=index, **values)
        try:
            criterion.full_clean(exclude=["rubric"])
        except ValidationError as error:
            raise _criterion_errors(index, error) from error
        criteria.append(criterion)
    return criteria


def _save_criteria(rubric: Rubric, criteria: list[Criterion]) -> None:
    for criterion in criteria:
        criterion.pk = None
        criterion.rubric = rubric
        criterion.save()


@transaction.atomic
def rubric_create(
    *, actor, name: str, slug: str, guidelines: str = "", criteria: list[dict[str, Any]] | None = None
) -> Rubric:
    """Create version 1 of a rubric with its criteria, in the given order.

    Raises PermissionDenied unless ``actor`` is a manager, and ValidationError
    for a taken slug or an invalid criterion.
    """
    _require_manager(actor, "create")
    if Rubric.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A rubric with slug {slug!r} exists already; edit it to make a new version."})
    rubric = Rubric(name=name, slug=slug, guidelines=guidelines, version=1, created_by=actor)
    rubric.full_clean()
    built = _build_criteria(criteria or [])

    rubric.save()
    _save_criteria(rubric, built)

    audit_record(actor=actor, action="rubric.create", instance=rubric, after=_rubric_snapshot(rubric))
    return rubric


def rubric_is_frozen(rubric: Rubric) -> bool:
    """Return whether a review references this version, so it may not change in place."""
    from reviews.models import Review

    return Review.objects.filter(rubric=rubric).exists()


def _check_editable(rubric: Rubric, slug: str | None) -> None:
    if slug is not None and slug != rubric.slug:
        raise ValidationError(
            {"slug": f"The slug of rubric {rubric.slug!r} cannot change; create a new rubric with slug {slug!r} instead."}
        )
    latest = Rubric.objects.filter(slug=rubric.slug).order_by("-version").first()
    if latest.pk != rubric.pk:
        raise ValidationError(
            f"Rubric {rubric.slug!r} version {rubric.version} is not the latest (v{latest.version}); "
            f"edit rubric {latest.pk} instead.",
            code="rubric_not_latest",
        )


def _move_queues(*, actor, source: Rubric, target: Rubric) -> None:
    from reviews.models import Queue

    for queue in Queue.objects.select_for_update().filter(rubric=source).order_by("pk"):
        queue.rubric = target
        queue.save(update_fields=["rubric", "updated_at"])
        audit_record(
            actor=actor, action="queue.rubric_upgrade", instance=queue,
            before={"rubric": source.pk}, after={"rubric": target.pk},
        )


def _new_version(*, actor, rubric: Rubric, content: dict[str, str], criteria: list[Criterion]) -> Rubric:
    target = Rubric(slug=rubric.slug, version=rubric.version + 1, created_by=actor, **content)
    target.full_clean()
    target.save()
    _save_criteria(target, criteria)
    _move_queues(actor=actor, source=rubric, target=target)
    return target


def _edit_in_place(*, rubric: Rubric, content: dict[str, str], criteria: list[Criterion] | None) -> Rubric:
    for field, value in content.items():
        setattr(rubric, field, value)
    rubric.full_clean()
    rubric.save()
    if criteria is not None:
        rubric.criteria.all().delete()
        _save_criteria(rubric, criteria)
    return rubric


@transaction.atomic
def rubric_update(
    *,
    actor,
    rubric: Rubric,
    name: str | None = None,
    slug: str | None = None,
    guidelines: str | None = None,
    criteria: list[dict[str, Any]] | None = None,
) -> Rubric:
    """Change a rubric, and return the version that now contains the change.

    Arguments left as None keep their value. A frozen version stays as it
    is: the change becomes version N+1 and every queue on version N moves to
    it. A request that changes nothing returns ``rubric`` and writes nothing.
    Raises PermissionDenied for a non-manager, and ValidationError when
    ``rubric`` is not the latest version, the slug changes or a criterion is
    invalid.
    """
    _require_manager(actor, "edit")
    # The row lock makes concurrent edits of one version take turns, so only one creates N+1.
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    _check_editable(rubric, slug)

    before = _rubric_snapshot(rubric)
    content = {field: getattr(rubric, field) for field in CONTENT_FIELDS}
    content.update({field: value for field, value in (("name", name), ("guidelines", guidelines)) if value is not None})
    built = _build_criteria(criteria if criteria is not None else before["criteria"])
    if content == {f: before[f] for f in CONTENT_FIELDS} and _criteria_snapshot(built) == before["criteria"]:
        return rubric

    if rubric_is_frozen(rubric):
        target = _new_version(actor=actor, rubric=rubric, content=content, criteria=built)
        action = "rubric.new_version"
    else:
        target = _edit_in_place(rubric=rubric, content=content, criteria=built if criteria is not None else None)
        action = "rubric.update"

    audit_record(actor=actor, action=action, instance=target, before=before, after=_rubric_snapshot(target))
    return target


@transaction.atomic
def rubric_delete(*, actor, rubric: Rubric) -> None:
    """Delete a rubric version that no queue uses and no review references.

    Raises PermissionDenied for a non-manager and Conflict for a version in use.
    """
    _require_manager(actor, "delete")
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    review_count = rubric.reviews.count()
    if review_count:
        raise Conflict(
            f"Rubric {rubric.label} is referenced by {review_count} review(s), which keep it as their provenance; "
            "it cannot be deleted.",
            code="rubric_in_use",
        )
    queue_slugs = list(rubric.queues.order_by("slug").values_list("slug", flat=True))
    if queue_slugs:
        raise Conflict(
            f"Rubric {rubric.label} is used by queue {', '.join(repr(slug) for slug in queue_slugs)}; "
            "point the queue at another rubric or delete the queue first.",
            code="rubric_in_use",
        )

    audit_record(actor=actor, action="rubric.delete", instance=rubric, before=_rubric_snapshot(rubric))
    rubric.delete()
