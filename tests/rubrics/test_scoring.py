import pytest
from django.core.exceptions import ValidationError

from rubrics.models import Criterion
from rubrics.scoring import scores_clean
from tests.factories import CriterionFactory, RubricFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rubric():
    rubric = RubricFactory(slug="helpfulness")
    CriterionFactory(rubric=rubric, key="correct", kind=Criterion.Kind.PASS_FAIL, position=0)
    CriterionFactory(rubric=rubric, key="tone", kind=Criterion.Kind.SCALE, min_value=1, max_value=5, position=1)
    CriterionFactory(
        rubric=rubric, key="topic", kind=Criterion.Kind.CHOICE, options=["billing", "network"],
        required=False, position=2,
    )
    return rubric


def _message(error: pytest.ExceptionInfo) -> str:
    return error.value.message_dict["scores"][0]


def test_valid_scores_are_returned(rubric):
    scores = {"correct": True, "tone": 4, "topic": "network"}

    assert scores_clean(rubric=rubric, scores=scores) == scores


def test_empty_optional_score_is_dropped(rubric):
    assert scores_clean(rubric=rubric, scores={"correct": False, "tone": 1, "topic": ""}) == {
        "correct": False,
        "tone": 1,
    }


def test_missing_required_score_is_invalid(rubric):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": True})

    assert _message(error) == "Criterion 'tone' is required; give it a score."


def test_unknown_criterion_is_invalid(rubric):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": True, "tone": 3, "style": 2})

    assert _message(error) == "Unknown criterion 'style'; rubric helpfulness@1 has correct, tone, topic."


@pytest.mark.parametrize("value", [1, "yes", "true"])
def test_pass_fail_needs_boolean(rubric, value):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": value, "tone": 3})

    assert _message(error) == f"Score for 'correct' must be true or false, not {value!r}."


@pytest.mark.parametrize("value", [True, 2.5, "3"])
def test_scale_needs_integer(rubric, value):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": True, "tone": value})

    assert _message(error) == f"Score for 'tone' must be an integer, not {value!r}."


@pytest.mark.parametrize("value", [0, 6])
def test_scale_outside_range_is_invalid(rubric, value):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": True, "tone": value})

    assert _message(error) == f"Score for 'tone' must be between 1 and 5, not {value}."


def test_choice_outside_options_is_invalid(rubric):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores={"correct": True, "tone": 3, "topic": "sales"})

    assert _message(error) == "Score for 'topic' must be one of billing, network, not 'sales'."


def test_scores_must_be_an_object(rubric):
    with pytest.raises(ValidationError) as error:
        scores_clean(rubric=rubric, scores=[True, 3])

    assert _message(error) == "Scores must be an object keyed by criterion key."
