"""A prompt that the validator rejects loses its row in every file, however many files share the prompt."""

import copy

import pytest

from exports.formats import format_get
from reviews.models import Review
from tests.exports.conftest import TOOL_CONVERSATION, TOOL_FIX, TOOL_REPLY

pytestmark = pytest.mark.django_db

# Example cleaning takes any valid JSON as arguments, but every file needs a JSON object.
LIST_ARGUMENTS = copy.deepcopy(TOOL_CONVERSATION)
LIST_ARGUMENTS[2]["tool_calls"][0]["function"]["arguments"] = "[42]"
# Every file gives a needs_fix item one row, except kto.jsonl, which gives it two.
ROWS_PER_FILE = {"trl": {"sft": 1, "dpo": 1, "kto": 2, "sft_messages": 1}, "openai": {"sft": 1, "dpo": 1}}


def _bad_prompt_item(make_reviewed):
    return make_reviewed(Review.Verdict.NEEDS_FIX, conversation=LIST_ARGUMENTS, response=TOOL_REPLY,
                         corrected_response=TOOL_FIX)


@pytest.mark.parametrize("export_format", ["trl", "openai"])
def test_bad_prompt_is_invalid_in_every_file(build, make_reviewed, export_format):
    make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                  corrected_response=TOOL_FIX)
    bad = _bad_prompt_item(make_reviewed)

    job = build(kind="all", export_format=export_format)

    files = [entry["file"] for entry in job.manifest["invalid_rows"]]
    expected = [f"{kind}.jsonl" for kind, count in ROWS_PER_FILE[export_format].items() for _ in range(count)]
    assert sorted(files) == sorted(expected)
    assert {entry["item_id"] for entry in job.manifest["invalid_rows"]} == {bad.pk}
    assert job.counts["rows_invalid"] == len(expected)


@pytest.mark.parametrize(("export_format", "reason"), [
    ("trl", "tool call 0 of message 2 of prompt has arguments [42]; this file gives arguments as JSON objects"),
    ("openai", "tool call 0 of message 2 of input.messages has arguments '[42]', which is not a JSON object"),
])
def test_bad_prompt_reason_names_its_file(build, make_reviewed, export_format, reason):
    _bad_prompt_item(make_reviewed)

    job = build(kind="dpo", export_format=export_format)

    assert [entry["reason"] for entry in job.manifest["invalid_rows"]] == [reason]


@pytest.mark.parametrize("export_format", ["trl", "openai"])
def test_bad_prompt_leaves_data_files_empty(build, make_reviewed, export_format):
    _bad_prompt_item(make_reviewed)

    job = build(kind="all", export_format=export_format)

    assert job.counts["rows"] == {kind: 0 for kind in format_get(export_format).kinds()}
