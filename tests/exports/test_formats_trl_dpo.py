import json

import pytest
from trl import is_conversational

from exports.examples import example_from_item
from exports.formats.trl_dpo import rows
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

pytestmark = pytest.mark.django_db


def _rows(item, tool_arguments="object"):
    return rows(example_from_item(item), tool_arguments)


def test_approved_gives_no_pair(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.APPROVED)) == []


def test_rejected_gives_no_pair(make_reviewed):
    assert _rows(make_reviewed(Review.Verdict.REJECTED)) == []


def test_needs_fix_pair_prefers_rewrite(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX)

    written = _rows(item)

    assert written == [
        {
            "prompt": AMBER_QUESTION,
            "chosen": [{"role": "assistant", "content": AMBER_FIX}],
            "rejected": [AMBER_REPLY],
            "meta_example_id": f"item-{item.pk}",
        }
    ]
    assert is_conversational(written[0])


def test_identical_pair_gives_no_row(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is  broken; buy a new one.")

    assert _rows(item) == []


def test_multi_turn_prompt_ends_with_user(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                         corrected_response=MULTI_TURN_FIX)

    row = _rows(item)[0]

    assert row["prompt"] == MULTI_TURN
    assert row["prompt"][-1]["role"] == "user"


def test_tool_pair_carries_tools_string(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX, tools=ORDER_TOOLS)

    row = _rows(item)[0]

    assert json.loads(row["tools"]) == ORDER_TOOLS
    assert row["prompt"][2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "42"}
    assert row["chosen"] == [{"role": "assistant", "content": TOOL_FIX}]
    assert row["rejected"] == [TOOL_REPLY]
