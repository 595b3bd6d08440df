import pytest
from trl import is_conversational

from exports.examples import example_from_item
from exports.formats.trl_kto import rows
from reviews.models import Review
from tests.exports.conftest import (
    AMBER_FIX,
    AMBER_QUESTION,
    AMBER_REPLY,
    ORDER_TOOLS,
    TOOL_CALL_REPLY,
    TOOL_CONVERSATION,
)

pytestmark = pytest.mark.django_db


def _rows(item, tool_arguments="object"):
    return rows(example_from_item(item), tool_arguments)


def test_approved_reply_is_desirable(make_reviewed):
    item = make_reviewed(Review.Verdict.APPROVED)

    written = _rows(item)

    assert written == [{
        "prompt": AMBER_QUESTION, "completion": [AMBER_REPLY], "label": True, "meta_example_id": f"item-{item.pk}",
    }]
    assert is_conversational(written[0])


def test_rejected_reply_is_undesirable(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.REJECTED))

    assert [(row["completion"], row["label"]) for row in written] == [([AMBER_REPLY], False)]


def test_needs_fix_gives_rewrite_true_original_false(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert [(row["completion"], row["label"]) for row in written] == [
        ([{"role": "assistant", "content": AMBER_FIX}], True),
        ([AMBER_REPLY], False),
    ]
    assert written[0]["prompt"] == written[1]["prompt"] == AMBER_QUESTION


def test_identical_rewrite_gives_only_desirable_row(make_reviewed):
    item = make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Your router is broken;  buy a new one.")

    written = _rows(item)

    assert [row["label"] for row in written] == [True]


def test_labels_are_booleans(make_reviewed):
    written = _rows(make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response=AMBER_FIX))

    assert all(row["label"] is True or row["label"] is False for row in written)


def test_rejected_tool_call_keeps_object_arguments(make_reviewed):
    item = make_reviewed(Review.Verdict.REJECTED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                         tools=ORDER_TOOLS)

    row = _rows(item)[0]

    assert row["completion"][0]["tool_calls"][0]["function"]["arguments"] == {"order_id": "43"}
    assert row["label"] is False
    assert isinstance(row["tools"], str)
