import pytest
from trl import is_conversational

from exports.examples import example_from_item
from exports.formats.trl_sft_messages import rows
from reviews.models import Review
from tests.exports.conftest import (
    AMBER_QUESTION,
    AMBER_REPLY,
    MULTI_TURN,
    MULTI_TURN_FIX,
    MULTI_TURN_REPLY,
    ORDER_TOOLS,
    TOOL_CALL_REPLY,
    TOOL_CONVERSATION,
)

pytestmark = pytest.mark.django_db


def _rows(item, tool_arguments="object"):
    return rows(example_from_item(item), tool_arguments)


def test_approved_gives_whole_conversation(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED)

    written = _rows(item)

    assert written == [{"messages": [*AMBER_QUESTION, AMBER_REPLY], "meta_example_id": f"item-{item.pk}"}]
    assert is_conversational(written[0])


def test_needs_fix_ends_with_rewrite(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    messages = _rows(item)[0]["messages"]

    assert messages[:-1] == MULTI_TURN
    assert messages[-1] == {"role": "assistant", "content": MULTI_TURN_FIX}


def test_rejected_gives_no_rows(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.REJECTED)) == []


def test_tool_conversation_keeps_calls_and_tools(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    row = _rows(item, tool_arguments="string")[0]

    assert row["messages"][2]["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"42\"}"
    assert row["messages"][3]["tool_call_id"] == "call_1"
    assert row["messages"][-1]["tool_calls"][0]["id"] == "call_2"
    assert isinstance(row["tools"], str)
