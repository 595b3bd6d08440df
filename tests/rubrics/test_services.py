import pytest
from django.core.exceptions import ValidationError

from bookbag.audit.models import AuditEvent
from bookbag.errors import Conflict, PermissionDenied
from rubrics.models import Rubric
from rubrics.services import rubric_create, rubric_delete, rubric_update
from tests.factories import CriterionFactory, QueueFactory, ReviewFactory, ReviewItemFactory, RubricFactory

pytestmark = pytest.mark.django_db

CRITERIA = [
    {"key": "correct", "label": "Correct", "kind": "pass_fail"},
    {"key": "tone", "label": "Tone", "kind": "scale", "min_value": 1, "max_value": 5, "required": False},
]


def _criteria(rubric: Rubric) -> list[tuple[str, str]]:
    return list(rubric.criteria.values_list("key", "label"))


def _referenced_rubric():
    """Return a rubric with one criterion that a queue uses and a review references."""
    rubric = RubricFactory(slug="helpfulness")
    CriterionFactory(rubric=rubric, key="correct", label="Correct")
    queue = QueueFactory(rubric=rubric)
    ReviewFactory(item=ReviewItemFactory(queue=queue))
    return rubric, queue


def test_create_makes_version_one_with_ordered_criteria(manager):
    rubric = rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=CRITERIA)

    assert rubric.version == 1
    assert rubric.created_by == manager
    assert list(rubric.criteria.values_list("key", "position")) == [("correct", 0), ("tone", 1)]
    assert AuditEvent.objects.filter(action="rubric.create", object_id=str(rubric.pk)).count() == 1


def test_create_by_reviewer_is_denied(reviewer):
    with pytest.raises(PermissionDenied, match="Only managers create rubrics"):
        rubric_create(actor=reviewer, name="Helpfulness", slug="helpfulness")

    assert not Rubric.objects.filter(slug="helpfulness").exists()


def test_create_with_taken_slug_is_invalid(manager):
    RubricFactory(slug="helpfulness")

    with pytest.raises(ValidationError, match="slug 'helpfulness' exists already"):
        rubric_create(actor=manager, name="Helpfulness", slug="helpfulness")


def test_create_with_duplicate_criterion_key_writes_nothing(manager):
    criteria = [{"key": "correct", "label": "Correct"}, {"key": "correct", "label": "Also correct"}]

    with pytest.raises(ValidationError, match="Criterion key 'correct' appears twice"):
        rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=criteria)

    assert not Rubric.objects.filter(slug="helpfulness").exists()


def test_create_with_unknown_criterion_field_is_invalid(manager):
    criteria = [{"key": "correct", "label": "Correct", "colour": "red"}]

    with pytest.raises(ValidationError, match=r"criteria\[0\]: unknown field 'colour'"):
        rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=criteria)


def test_create_with_scale_missing_max_names_position(manager):
    criteria = [CRITERIA[0], {"key": "tone", "label": "Tone", "kind": "scale", "min_value": 1}]

    with pytest.raises(ValidationError) as raised:
        rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=criteria)

    assert raised.value.message_dict["criteria"] == [
        "criteria[1]: Criterion 'tone': a scale needs both min and max."
    ]


def test_create_with_choice_of_one_option_is_invalid(manager):
    criteria = [{"key": "topic", "label": "Topic", "kind": "choice", "options": ["billing"]}]

    with pytest.raises(ValidationError, match="a choice needs at least two non-empty text options"):
        rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=criteria)


def test_update_unreferenced_rubric_edits_in_place(manager):
    rubric = rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=CRITERIA)
    queue = QueueFactory(rubric=rubric)

    updated = rubric_update(
        actor=manager, rubric=rubric, name="Helpfulness (strict)",
        criteria=[{"key": "polite", "label": "Polite"}],
    )

    assert updated.pk == rubric.pk
    assert updated.version == 1
    assert updated.name == "Helpfulness (strict)"
    assert _criteria(updated) == [("polite", "Polite")]
    queue.refresh_from_db()
    assert queue.rubric_id == rubric.pk
    assert AuditEvent.objects.filter(action="rubric.update", object_id=str(rubric.pk)).count() == 1


def test_update_referenced_rubric_makes_next_version(manager):
    rubric, _ = _referenced_rubric()

    updated = rubric_update(actor=manager, rubric=rubric, criteria=[{"key": "polite", "label": "Polite"}])

    assert updated.pk != rubric.pk
    assert updated.slug == "helpfulness"
    assert updated.version == 2
    assert _criteria(updated) == [("polite", "Polite")]
    assert _criteria(rubric) == [("correct", "Correct")]
    assert AuditEvent.objects.filter(action="rubric.new_version", object_id=str(updated.pk)).count() == 1


def test_update_referenced_rubric_moves_queue(manager):
    rubric, queue = _referenced_rubric()

    updated = rubric_update(actor=manager, rubric=rubric, name="Helpfulness v2")

    queue.refresh_from_db()
    assert queue.rubric_id == updated.pk
    event = AuditEvent.objects.get(action="queue.rubric_upgrade", object_id=str(queue.pk))
    assert event.before == {"rubric": rubric.pk}
    assert event.after == {"rubric": updated.pk}


def test_update_referenced_rubric_copies_criteria_when_not_given(manager):
    rubric, _ = _referenced_rubric()

    updated = rubric_update(actor=manager, rubric=rubric, guidelines="Check every fact.")

    assert updated.version == 2
    assert updated.guidelines == "Check every fact."
    assert _criteria(updated) == [("correct", "Correct")]
    assert rubric.criteria.count() == 1


def test_update_without_change_keeps_version(manager):
    rubric, _ = _referenced_rubric()
    same_criteria = list(rubric.criteria.values("key", "label", "kind", "required", "weight"))

    updated = rubric_update(actor=manager, rubric=rubric, name=rubric.name, criteria=same_criteria)

    assert updated.pk == rubric.pk
    assert Rubric.objects.filter(slug="helpfulness").count() == 1
    assert not AuditEvent.objects.filter(action__startswith="rubric.").exists()


def test_update_of_old_version_is_invalid(manager):
    rubric, _ = _referenced_rubric()
    rubric_update(actor=manager, rubric=rubric, name="Helpfulness v2")

    with pytest.raises(ValidationError, match="version 1 is not the latest"):
        rubric_update(actor=manager, rubric=rubric, name="Helpfulness v3")


def test_update_slug_is_invalid(manager):
    rubric = RubricFactory(slug="helpfulness")

    with pytest.raises(ValidationError, match="slug of rubric 'helpfulness' cannot change"):
        rubric_update(actor=manager, rubric=rubric, slug="harmlessness")


def test_update_by_reviewer_is_denied(reviewer):
    rubric = RubricFactory(name="Helpfulness")

    with pytest.raises(PermissionDenied):
        rubric_update(actor=reviewer, rubric=rubric, name="Changed")

    rubric.refresh_from_db()
    assert rubric.name == "Helpfulness"


def test_update_with_invalid_criterion_keeps_old_criteria(manager):
    rubric = rubric_create(actor=manager, name="Helpfulness", slug="helpfulness", criteria=CRITERIA)

    with pytest.raises(ValidationError):
        rubric_update(actor=manager, rubric=rubric, criteria=[{"key": "tone", "label": "Tone", "kind": "scale"}])

    assert _criteria(rubric) == [("correct", "Correct"), ("tone", "Tone")]


def test_delete_unused_rubric(manager):
    rubric = RubricFactory()

    rubric_delete(actor=manager, rubric=rubric)

    assert not Rubric.objects.filter(pk=rubric.pk).exists()
    assert AuditEvent.objects.filter(action="rubric.delete", object_id=str(rubric.pk)).count() == 1


def test_delete_rubric_used_by_queue_is_conflict(manager):
    rubric = RubricFactory(slug="helpfulness")
    QueueFactory(rubric=rubric, slug="support")

    with pytest.raises(Conflict, match="used by queue 'support'; point the queue at another rubric"):
        rubric_delete(actor=manager, rubric=rubric)

    assert Rubric.objects.filter(pk=rubric.pk).exists()


def test_delete_rubric_with_reviews_is_conflict(manager):
    rubric, _ = _referenced_rubric()

    with pytest.raises(Conflict, match="referenced by 1 review"):
        rubric_delete(actor=manager, rubric=rubric)


def test_delete_by_reviewer_is_denied(reviewer):
    rubric = RubricFactory()

    with pytest.raises(PermissionDenied):
        rubric_delete(actor=reviewer, rubric=rubric)

    assert Rubric.objects.filter(pk=rubric.pk).exists()
