import json

import pytest

from exports.examples import InvalidExample, example_from_item
from reviews.models import Review
from tests.exports.conftest import (
    AMBER_FIX,
    AMBER_QUESTION,
    AMBER_REPLY,
    TOOL_CALL_REPLY,
    TOOL_CONVERSATION,
)

pytestmark = pytest.mark.django_db


def test_approved_trains_on_original(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.APPROVED))

    assert example.sft_target == AMBER_REPLY
    assert example.preference_pair is None


def test_needs_fix_trains_on_rewrite_and_pairs(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=f"  {AMBER_FIX}\n"))

    assert example.sft_target == {"role": "assistant", "content": AMBER_FIX}
    assert example.preference_pair == ({"role": "assistant", "content": AMBER_FIX}, AMBER_REPLY)


def test_rejected_gives_no_rows(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.REJECTED))

    assert example.sft_target is None
    assert example.preference_pair is None


def test_rewrite_equal_after_whitespace_is_identical(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your  router is broken;\nbuy a new one.")

    example = example_from_item(item)

    assert example.pair_is_identical
    assert example.preference_pair is None
    assert example.sft_target["content"] == "Your  router is broken;\nbuy a new one."


def test_provenance_names_item_review_and_rubric(make_reviewed, queue, reviewer):
    item = make_reviewed(Review.Verdict.APPROVED, model="acme-chat-7b")

    provenance = example_from_item(item).provenance

    assert provenance["item_id"] == item.pk
    assert provenance["external_id"] == item.external_id
    assert provenance["queue"] == queue.slug
    assert provenance["rubric_slug"] == queue.rubric.slug
    assert provenance["rubric_version"] == queue.rubric.version
    assert provenance["reviewer_id"] == reviewer.pk
    assert provenance["verdict"] == "approved"
    assert provenance["model"] == "acme-chat-7b"
    assert provenance["reviewed_at"] == item.final_review.submitted_at.isoformat()


def test_tool_calls_keep_json_string_arguments(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION))

    call = example.context[2]["tool_calls"][0]
    assert call == {
        "id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": "{\"order_id\": \"42\"}"},
    }
    assert example.context[2]["content"] is None
    assert example.context[3] == {
        "role": "tool", "content": "{\"status\": \"shipped\"}", "tool_call_id": "call_1", "name": "get_order",
    }


def test_object_arguments_become_json_strings(make_reviewed):
    response = {**TOOL_CALL_REPLY, "tool_calls": [
        {"id": "call_9", "type": "function", "function": {"name": "get_order", "arguments": {"order_id": "9"}}}
    ]}

    example = example_from_item(make_reviewed(Review.Verdict.APPROVED, response=response))

    assert json.loads(example.original["tool_calls"][0]["function"]["arguments"]) == {"order_id": "9"}
    assert isinstance(example.original["tool_calls"][0]["function"]["arguments"], str)


def test_developer_role_becomes_system(make_reviewed):
    conversation = [{"role": "developer", "content": "Be brief."}, AMBER_QUESTION[1]]

    example = example_from_item(make_reviewed(Review.Verdict.APPROVED, conversation=conversation))

    assert example.context[0] == {"role": "system", "content": "Be brief."}


def test_text_parts_are_joined(make_reviewed):
    parts = [{"type": "text", "text": "Amber "}, {"type": "text", "text": "light?"}]
    conversation = [{"role": "user", "content": parts}]

    example = example_from_item(make_reviewed(Review.Verdict.APPROVED, conversation=conversation))

    assert example.context[0]["content"] == "Amber light?"


def test_response_without_role_is_assistant(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.APPROVED, response={"content": "Check the cable."}))

    assert example.original == {"role": "assistant", "content": "Check the cable."}


INVALID_CASES = [
    ("unknown role", [{"role": "human", "content": "Hi"}], AMBER_REPLY, "role 'human'"),
    ("empty conversation", [], AMBER_REPLY, "conversation before the reply is empty"),
    ("ends with assistant", [AMBER_QUESTION[1], {"role": "assistant", "content": "Hm."}], AMBER_REPLY,
     "last turn has role 'assistant'"),
    ("unanswered tool reply", [AMBER_QUESTION[1], {"role": "tool", "tool_call_id": "call_x", "content": "{}"}],
     AMBER_REPLY, "'call_x', which matches no earlier tool call"),
    ("arguments not JSON", AMBER_QUESTION, {**TOOL_CALL_REPLY, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_order", "arguments": "{order"}}]},
     "arguments that are not valid JSON"),
    ("tool call without id", AMBER_QUESTION, {**TOOL_CALL_REPLY, "tool_calls": [
        {"type": "function", "function": {"name": "get_order", "arguments": "{}"}}]}, "has no id"),
    ("empty reply", AMBER_QUESTION, {"role": "assistant", "content": ""}, "neither content nor tool calls"),
    ("reply from user", AMBER_QUESTION, {"role": "user", "content": "Thanks"}, "must be an assistant turn"),
    ("image content", [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
     AMBER_REPLY, "non-text content"),
    ("user without content", [{"role": "user"}], AMBER_REPLY, "user message 0 has no content"),
    ("message not an object", ["Hi"], AMBER_REPLY, "message 0 is a str"),
]


@pytest.mark.parametrize(
    ("conversation", "response", "reason"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_invalid_messages_raise(make_reviewed, conversation, response, reason):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=conversation, response=response)

    with pytest.raises(InvalidExample) as error:
        example_from_item(item)

    assert reason in str(error.value)


@pytest.mark.parametrize(("rewrite", "original", "trivial"), [
    ("Résumé: done.", "Résumé done", True),
    ("Café, then tea!", "Café then tea", True),
    ("Café then coffee", "Café then tea", False),
    ("Crème brûlée, please", "Creme brulee please", False),
    ("Cafè, then tea", "Café then tea", False),
])
def test_trivial_edit_with_non_ascii_text(make_reviewed, rewrite, original, trivial):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, response={"role": "assistant", "content": original},
                         corrected_response=rewrite)

    assert example_from_item(item).trivial_edit is trivial
