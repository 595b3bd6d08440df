"""Turn selection and pairwise reviews: validation on submit and the mapping to training data."""

import pytest
from django.core.exceptions import ValidationError

from reviews.services import assignment_claim, review_submit
from reviews.training import review_preference_pair, review_prompt, review_reply
from tests.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db

CONVERSATION = [
    {"role": "user", "content": "My WAN light blinks."},
    {"role": "assistant", "content": "Buy a new router."},
    {"role": "user", "content": "Anything cheaper?"},
]
RESPONSE = {"role": "assistant", "content": "Restart it."}
CANDIDATE_B = {"role": "assistant", "content": "Check the cable, then restart the router."}


def _submit(queue, reviewer, **judgement):
    return review_submit(assignment=assignment_claim(queue=queue, reviewer=reviewer), reviewer=reviewer, **judgement)


@pytest.fixture
def multi_turn_item(queue):
    return ReviewItemFactory(queue=queue, conversation=CONVERSATION, response=RESPONSE, turn_selectable=True)


@pytest.fixture
def pairwise_item(queue):
    return ReviewItemFactory(queue=queue, response=RESPONSE, reference_response=CANDIDATE_B, is_pairwise=True)


def test_turn_review_prompt_is_messages_before_turn(queue, reviewer, multi_turn_item):
    review = _submit(queue, reviewer, verdict="needs_fix", turn_index=1, corrected_response="Restart the router first.")

    assert review.turn_index == 1
    assert review_prompt(review) == CONVERSATION[:1]
    pair = review_preference_pair(review)
    assert pair.chosen == {"role": "assistant", "content": "Restart the router first."}
    assert pair.rejected == CONVERSATION[1]


def test_turn_rewrite_equal_to_chosen_turn_is_invalid(queue, reviewer, multi_turn_item):
    with pytest.raises(ValidationError) as error:
        _submit(queue, reviewer, verdict="needs_fix", turn_index=1, corrected_response="Buy a new router.")

    assert "same as the original" in str(error.value)


def test_turn_index_on_user_turn_is_invalid(queue, reviewer, multi_turn_item):
    with pytest.raises(ValidationError) as error:
        _submit(queue, reviewer, verdict="approved", turn_index=2)

    assert "choose one of [1, 3]" in str(error.value)


def test_turn_index_on_fixed_item_is_invalid(queue, reviewer):
    ReviewItemFactory(queue=queue, conversation=CONVERSATION)

    with pytest.raises(ValidationError):
        _submit(queue, reviewer, verdict="approved", turn_index=1)


def test_no_turn_index_reviews_response(queue, reviewer, multi_turn_item):
    review = _submit(queue, reviewer, verdict="approved")

    assert review_prompt(review) == CONVERSATION
    assert review_reply(review) == RESPONSE
    assert review_preference_pair(review) is None


def test_pairwise_needs_preference(queue, reviewer, pairwise_item):
    with pytest.raises(ValidationError) as error:
        _submit(queue, reviewer, verdict="approved")

    assert "preferred" in str(error.value)


def test_pairwise_preference_on_single_item_is_invalid(queue, reviewer):
    ReviewItemFactory(queue=queue)

    with pytest.raises(ValidationError):
        _submit(queue, reviewer, verdict="approved", preferred="a")


def test_pairwise_approved_b_is_chosen(queue, reviewer, pairwise_item):
    review = _submit(queue, reviewer, verdict="approved", preferred="b")

    pair = review_preference_pair(review)
    assert (pair.chosen, pair.rejected) == (CANDIDATE_B, RESPONSE)


def test_pairwise_rewrite_of_preferred_is_chosen(queue, reviewer, pairwise_item):
    review = _submit(queue, reviewer, verdict="needs_fix", preferred="a", corrected_response="Restart it twice.")

    pair = review_preference_pair(review)
    assert pair.chosen == {"role": "assistant", "content": "Restart it twice."}
    assert pair.rejected == CANDIDATE_B


def test_pairwise_rejected_yields_no_pair(queue, reviewer, pairwise_item):
    review = _submit(queue, reviewer, verdict="rejected", preferred="a", reason="Both are wrong.")

    assert review_preference_pair(review) is None


def test_pairwise_item_needs_reference():
    item = ReviewItemFactory.build(is_pairwise=True, reference_response=None)

    with pytest.raises(ValidationError):
        item.clean()
