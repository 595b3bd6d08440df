import json

import pytest
from trl import is_conversational

from exports.examples import example_from_item
from exports.formats.trl_sft import rows
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

RESERVED_COLUMNS = {"labels", "label", "input_ids", "prompt_ids", "chosen_ids", "rejected_ids", "completion_mask"}


def _rows(item, tool_arguments="object"):
    return rows(example_from_item(item), tool_arguments)


def test_approved_gives_prompt_completion(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED)

    written = _rows(item)

    assert written == [
        {"prompt": AMBER_QUESTION, "completion": [AMBER_REPLY], "meta_example_id": f"item-{item.pk}"}
    ]
    assert is_conversational(written[0])


def test_needs_fix_completion_is_rewrite(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert written[0]["completion"] == [{"role": "assistant", "content": AMBER_FIX}]


def test_rejected_gives_no_rows(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.REJECTED)) == []


def test_identical_rewrite_still_gives_sft_row(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is  broken; buy a new one.")

    assert len(_rows(item)) == 1


def test_multi_turn_prompt_keeps_earlier_turns(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    row = _rows(item)[0]

    assert row["prompt"] == MULTI_TURN
    assert row["completion"] == [{"role": "assistant", "content": MULTI_TURN_FIX}]
    assert "weight" not in json.dumps(row)


def test_tool_calls_have_object_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = _rows(item)[0]

    call_turn, tool_turn = row["prompt"][2], row["prompt"][3]
    assert call_turn["content"] == ""
    assert call_turn["tool_calls"][0]["function"] == {"name": "get_order", "arguments": {"order_id": "42"}}
    assert tool_turn == {
        "role": "tool", "content": "{\"status\": \"shipped\"}", "tool_call_id": "call_1", "name": "get_order",
    }
    assert row["completion"] == [{"role": "assistant", "content": TOOL_FIX}]


def test_string_option_keeps_json_string_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    row = _rows(item, tool_arguments="string")[0]

    assert row["prompt"][2]["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"42\"}"
    assert row["completion"][0]["tool_calls"][0]["function"]["arguments"] == "{\"order_id\": \"43\"}"


def test_tools_are_a_json_string(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = _rows(item)[0]

    assert isinstance(row["tools"], str)
    assert json.loads(row["tools"]) == ORDER_TOOLS


def test_no_tools_key_without_tools(make_reviewed):
    row = _rows(make_reviewed(Review.Verdict.APPROVED))[0]

    assert "tools" not in row


def test_reviewed_tool_call_is_completion(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    completion = _rows(item)[0]["completion"]

    assert completion[0]["tool_calls"][0]["function"]["arguments"] == {"order_id": "43"}


def test_columns_avoid_trl_reserved_names(make_reviewed):
    row = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))[0]

    extra = set(row) - {"prompt", "completion", "tools"}
    assert not extra & RESERVED_COLUMNS
    assert all(column.startswith("meta_") for column in extra)
