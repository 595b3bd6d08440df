import json

import pytest

from exports.examples import example_from_item
from exports.formats.openai_preference import rows
from reviews.models import Review
from tests.exports.conftest import (
    AMBER_FIX,
    AMBER_QUESTION,
    AMBER_REPLY,
    MULTI_TURN,
    MULTI_TURN_FIX,
    MULTI_TURN_REPLY,
    ORDER_TOOLS,
    TOOL_CONVERSATION,
    TOOL_FIX,
    TOOL_REPLY,
)
from tests.exports.openai_types import check_messages

pytestmark = pytest.mark.django_db


def _rows(item):
    return rows(example_from_item(item), "string")


def test_approved_gives_no_preference_row(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.APPROVED)) == []


def test_rejected_gives_no_preference_row(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.REJECTED)) == []


def test_needs_fix_prefers_rewrite(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert written == [
        {
            "input": {"messages": AMBER_QUESTION},
            "preferred_output": [{"role": "assistant", "content": AMBER_FIX}],
            "non_preferred_output": [AMBER_REPLY],
        }
    ]


def test_identical_pair_gives_no_row(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is broken;\tbuy a new one.")

    assert _rows(item) == []


def test_input_ends_with_user_turn(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    row = _rows(item)[0]

    assert row["input"]["messages"][-1]["role"] == "user"
    assert "weight" not in json.dumps(row)


def test_tool_row_carries_tools_in_input(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = _rows(item)[0]

    assert set(row) == {"input", "preferred_output", "non_preferred_output"}
    assert row["input"]["tools"] == ORDER_TOOLS
    assert row["input"]["messages"][-1]["role"] == "tool"
    check_messages(row["input"]["messages"] + row["preferred_output"] + row["non_preferred_output"])
