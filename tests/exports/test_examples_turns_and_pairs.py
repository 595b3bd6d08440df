"""Examples of turn-selected and pairwise items: which messages become the prompt, the reply and the pair."""

import pytest

from exports.examples import InvalidExample, example_from_item
from exports.records import export_record_iter, record_from_item
from reviews.models import Review, ReviewItem
from tests.exports.conftest import (
    AMBER_FIX,
    AMBER_QUESTION,
    AMBER_REPLY,
    MULTI_TURN,
    MULTI_TURN_REPLY,
    bundle_members,
    jsonl_rows,
)

pytestmark = pytest.mark.django_db

CANDIDATE_B = {"role": "assistant", "content": "Amber means no signal from your provider; check the coax cable."}


def _pairwise(make_reviewed, verdict, *, preferred, corrected_response=""):
    return make_reviewed(
        verdict, is_pairwise=True, reference_response=CANDIDATE_B, preferred=preferred,
        corrected_response=corrected_response,
    )


def test_pairwise_approved_prefers_picked_candidate(make_reviewed):
    example = example_from_item(_pairwise(make_reviewed, Review.Verdict.APPROVED, preferred="b"))

    assert example.sft_target == CANDIDATE_B
    assert example.preference_pair == (CANDIDATE_B, AMBER_REPLY)


def test_pairwise_needs_fix_pairs_rewrite_over_other(make_reviewed):
    item = _pairwise(make_reviewed, Review.Verdict.NEEDS_FIX, preferred="a", corrected_response=AMBER_FIX)

    example = example_from_item(item)

    assert example.original == AMBER_REPLY
    assert example.preference_pair == ({"role": "assistant", "content": AMBER_FIX}, CANDIDATE_B)


def test_pairwise_rejected_gives_no_pair(make_reviewed):
    example = example_from_item(_pairwise(make_reviewed, Review.Verdict.REJECTED, preferred="a"))

    assert example.preference_pair is None
    assert example.sft_target is None


def test_pairwise_equal_candidates_give_no_pair(make_reviewed):
    item = make_reviewed(
        Review.Verdict.APPROVED, is_pairwise=True, preferred="a",
        reference_response={"role": "assistant", "content": f"  {AMBER_REPLY['content']}"},
    )

    example = example_from_item(item)

    assert example.pair_is_identical
    assert example.preference_pair is None


def test_pairwise_without_preference_is_invalid(make_reviewed):
    item = _pairwise(make_reviewed, Review.Verdict.APPROVED, preferred="a")
    Review.objects.filter(pk=item.final_review_id).update(preferred="")
    item.refresh_from_db()

    with pytest.raises(InvalidExample, match="no preferred candidate"):
        example_from_item(item)


def test_turn_index_prompt_ends_before_turn(make_reviewed):
    item = make_reviewed(
        Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
        turn_selectable=True, turn_index=2, corrected_response="Open Settings, then Wi-Fi.",
    )

    example = example_from_item(item)

    assert example.context == MULTI_TURN[:2]
    assert example.original == MULTI_TURN[2]
    assert example.preference_pair[1] == MULTI_TURN[2]


def test_turn_index_outside_transcript_is_invalid(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED)
    Review.objects.filter(pk=item.final_review_id).update(turn_index=len(AMBER_QUESTION) + 1)
    item.refresh_from_db()

    with pytest.raises(InvalidExample, match="outside its 3 messages"):
        example_from_item(item)


def test_record_iter_matches_item_record(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX, tools=[{"type": "function"}])

    records = list(export_record_iter(ReviewItem.objects.filter(pk=item.pk), chunk_size=10))

    assert records == [record_from_item(item)]


def test_record_iter_decodes_null_columns(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED)

    (record,) = export_record_iter(ReviewItem.objects.filter(pk=item.pk), chunk_size=10)

    assert record.tools is None
    assert record.reference_response is None
    assert record.conversation == AMBER_QUESTION


def test_bundle_carries_pairwise_and_turn_pairs(build, make_reviewed):
    _pairwise(make_reviewed, Review.Verdict.APPROVED, preferred="b")
    _pairwise(make_reviewed, Review.Verdict.REJECTED, preferred="a")
    make_reviewed(
        Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY, turn_selectable=True,
        turn_index=2, corrected_response="Open Settings, then Wi-Fi.",
    )

    members = bundle_members(build(kind="both"))

    dpo = jsonl_rows(members["dpo.jsonl"])
    assert [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in dpo] == [
        (CANDIDATE_B["content"], AMBER_REPLY["content"]),
        ("Open Settings, then Wi-Fi.", MULTI_TURN[2]["content"]),
    ]
    assert dpo[1]["prompt"] == MULTI_TURN[:2]
    sft = jsonl_rows(members["sft.jsonl"])
    assert [row["completion"][0]["content"] for row in sft] == [CANDIDATE_B["content"], "Open Settings, then Wi-Fi."]
