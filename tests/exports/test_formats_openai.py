import json

import pytest
from openai.types.chat import ChatCompletionMessageParam
from pydantic import TypeAdapter, ValidationError

from exports.examples import example_from_item
from exports.formats.openai_chat import dpo_rows, sft_rows
from reviews.models import Review
from tests.exports.conftest import (
    AMBER_FIX,
    AMBER_QUESTION,
    AMBER_REPLY,
    MULTI_TURN,
    MULTI_TURN_FIX,
    MULTI_TURN_REPLY,
    ORDER_TOOLS,
    TOOL_CALL_REPLY,
    TOOL_CONVERSATION,
    TOOL_FIX,
    TOOL_REPLY,
)

pytestmark = pytest.mark.django_db

MESSAGES = TypeAdapter(list[ChatCompletionMessageParam])
MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "tool_calls", "weight"},
    "tool": {"role", "content", "tool_call_id"},
}


def _consume(value) -> None:
    """Walk a validated value so that pydantic checks the lazy iterables (``tool_calls``) too."""
    if isinstance(value, dict):
        for entry in value.values():
            _consume(entry)
    elif not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        for entry in value:
            _consume(entry)


def _check_messages(messages: list[dict]) -> None:
    """Validate with openai's own message types, then check the keys the types ignore."""
    _consume(MESSAGES.validate_python(messages))
    for message in messages:
        assert set(message) <= MESSAGE_KEYS[message["role"]], message


def test_message_check_rejects_object_arguments():
    call = {"id": "c", "type": "function", "function": {"name": "get_order", "arguments": {"order_id": "1"}}}

    with pytest.raises(ValidationError):
        _check_messages([{"role": "assistant", "tool_calls": [call]}])


def test_approved_gives_weighted_messages(make_reviewed):
    rows = sft_rows(example_from_item(make_reviewed(Review.Verdict.APPROVED)))

    assert rows == [{"messages": [*AMBER_QUESTION, {**AMBER_REPLY, "weight": 1}]}]
    _check_messages(rows[0]["messages"])


def test_approved_gives_no_preference_row(make_reviewed):
    assert dpo_rows(example_from_item(make_reviewed(Review.Verdict.APPROVED))) == []


def test_needs_fix_gives_rewrite_and_preference(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert sft_rows(example)[0]["messages"][-1] == {"role": "assistant", "content": AMBER_FIX, "weight": 1}
    assert dpo_rows(example) == [
        {
            "input": {"messages": AMBER_QUESTION},
            "preferred_output": [{"role": "assistant", "content": AMBER_FIX}],
            "non_preferred_output": [AMBER_REPLY],
        }
    ]


def test_rejected_gives_no_rows(make_reviewed):
    example = example_from_item(make_reviewed(Review.Verdict.REJECTED))

    assert sft_rows(example) == []
    assert dpo_rows(example) == []


def test_identical_pair_gives_no_preference_row(make_reviewed):
    example = example_from_item(
        make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is broken;\tbuy a new one.")
    )

    assert dpo_rows(example) == []


def test_earlier_assistant_turns_get_weight_zero(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    messages = sft_rows(example_from_item(item))[0]["messages"]

    assert [message.get("weight") for message in messages] == [None, None, 0, None, 1]
    assert messages[-1]["content"] == MULTI_TURN_FIX
    _check_messages(messages)


def test_preference_input_ends_with_user_turn(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    row = dpo_rows(example_from_item(item))[0]

    assert row["input"]["messages"][-1]["role"] == "user"
    assert "weight" not in json.dumps(row)


def test_tool_calls_keep_string_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = sft_rows(example_from_item(item))[0]

    call_turn, tool_turn = row["messages"][2], row["messages"][3]
    assert "content" not in call_turn
    assert call_turn["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"42\"}"
    assert call_turn["weight"] == 0
    assert tool_turn == {"role": "tool", "content": "{\"status\": \"shipped\"}", "tool_call_id": "call_1"}
    assert row["tools"] == ORDER_TOOLS
    _check_messages(row["messages"])


def test_tool_preference_row_carries_tools(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = dpo_rows(example_from_item(item))[0]

    assert set(row) == {"input", "preferred_output", "non_preferred_output"}
    assert row["input"]["tools"] == ORDER_TOOLS
    assert row["input"]["messages"][-1]["role"] == "tool"
    _check_messages(row["input"]["messages"] + row["preferred_output"] + row["non_preferred_output"])


def test_reviewed_tool_call_keeps_string_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    last = sft_rows(example_from_item(item))[0]["messages"][-1]

    assert last["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"43\"}"
    assert last["weight"] == 1
