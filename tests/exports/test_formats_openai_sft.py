import pytest
from pydantic import ValidationError

from exports.examples import example_from_item
from exports.formats.openai_sft import rows
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
from tests.exports.openai_types import check_messages

pytestmark = pytest.mark.django_db


def _rows(item):
    return rows(example_from_item(item), "string")


def test_message_check_rejects_object_arguments():
    call = {"id": "c", "type": "function", "function": {"name": "get_order", "arguments": {"order_id": "1"}}}

    with pytest.raises(ValidationError):
        check_messages([{"role": "assistant", "tool_calls": [call]}])


def test_approved_gives_weighted_messages(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.APPROVED))

    assert written == [{"messages": [*AMBER_QUESTION, {**AMBER_REPLY, "weight": 1}]}]
    check_messages(written[0]["messages"])


def test_needs_fix_trains_on_rewrite(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert written[0]["messages"][-1] == {"role": "assistant", "content": AMBER_FIX, "weight": 1}


def test_rejected_gives_no_rows(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.REJECTED)) == []


def test_earlier_assistant_turns_get_weight_zero(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    messages = _rows(item)[0]["messages"]

    assert [message.get("weight") for message in messages] == [None, None, 0, None, 1]
    assert messages[-1]["content"] == MULTI_TURN_FIX
    check_messages(messages)


def test_tool_calls_keep_string_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = _rows(item)[0]

    call_turn, tool_turn = row["messages"][2], row["messages"][3]
    assert "content" not in call_turn
    assert call_turn["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"42\"}"
    assert call_turn["weight"] == 0
    assert tool_turn == {"role": "tool", "content": "{\"status\": \"shipped\"}", "tool_call_id": "call_1"}
    assert row["tools"] == ORDER_TOOLS
    check_messages(row["messages"])


def test_reviewed_tool_call_keeps_string_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    last = _rows(item)[0]["messages"][-1]

    assert last["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"43\"}"
    assert last["weight"] == 1


def test_rows_have_no_extra_keys(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    assert set(_rows(item)[0]) == {"messages", "tools"}
