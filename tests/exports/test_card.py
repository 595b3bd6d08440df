import pytest
import yaml

from exports.card import features_fit
from exports.formats import format_get
from reviews.models import Review
from tests.exports.conftest import ORDER_TOOLS, TOOL_CALL_REPLY, TOOL_CONVERSATION, bundle_members

SFT_FEATURES = format_get("trl").writers["sft"].features
TEXT_ROW = {
    "prompt": [{"role": "user", "content": "Hi"}],
    "completion": [{"role": "assistant", "content": "Hello."}],
    "meta_example_id": "item-1",
}


def test_text_row_fits_features():
    assert features_fit(TEXT_ROW, SFT_FEATURES)


@pytest.mark.parametrize(
    "row",
    [
        {**TEXT_ROW, "tools": "[]"},
        {**TEXT_ROW, "completion": [{"role": "assistant", "content": "", "tool_calls": []}]},
        {**TEXT_ROW, "meta_example_id": 1},
        {key: value for key, value in TEXT_ROW.items() if key != "meta_example_id"},
    ],
    ids=["extra column", "extra message key", "wrong type", "missing column"],
)
def test_other_rows_do_not_fit(row):
    assert not features_fit(row, SFT_FEATURES)


def test_boolean_is_not_a_string():
    assert not features_fit({"label": True}, [{"name": "label", "dtype": "string"}])
    assert features_fit({"label": True}, [{"name": "label", "dtype": "bool"}])


def _header(job) -> dict:
    text = bundle_members(job)["README.md"].decode()
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.django_db
def test_card_declares_features_for_text_configs(build, mixed_items):
    header = _header(build(kind="all"))

    assert [config["config_name"] for config in header["configs"]] == ["sft", "dpo", "kto", "sft_messages"]
    # mixed_items contains a tool-calling item, so no TRL file is text-only.
    assert "dataset_info" not in header


@pytest.mark.django_db
def test_text_only_bundle_declares_every_feature(build, make_reviewed):
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Check the coax cable, then restart the modem.")
    make_reviewed(Review.Verdict.REJECTED)

    header = _header(build(kind="all"))

    declared = {entry["config_name"]: entry["features"] for entry in header["dataset_info"]}
    assert sorted(declared) == ["dpo", "kto", "sft", "sft_messages"]
    assert declared["kto"] == format_get("trl").writers["kto"].features


@pytest.mark.django_db
def test_openai_sft_never_declares_features(build, make_reviewed):
    make_reviewed(Review.Verdict.NEEDS_FIX, corrected_response="Check the coax cable, then restart the modem.")

    header = _header(build(export_format="openai"))

    assert [entry["config_name"] for entry in header["dataset_info"]] == ["dpo"]


@pytest.mark.django_db
def test_split_files_become_config_splits(build, make_reviewed):
    for number in range(12):
        make_reviewed(Review.Verdict.APPROVED, conversation=[{"role": "user", "content": f"Question {number}?"}])

    header = _header(build(kind="sft", options={"validation_ratio": 0.5}))

    assert header["configs"] == [{
        "config_name": "sft", "default": True, "data_files": [
            {"split": "train", "path": "sft.train.jsonl"}, {"split": "validation", "path": "sft.validation.jsonl"},
        ],
    }]


@pytest.mark.django_db
def test_card_reports_options(build, make_reviewed):
    make_reviewed(Review.Verdict.APPROVED, conversation=TOOL_CONVERSATION, response=TOOL_CALL_REPLY,
                  tools=ORDER_TOOLS)

    text = bundle_members(build(options={"redact_pii": True, "tool_arguments": "string"}))["README.md"].decode()

    assert "- Tool-call arguments: given as JSON strings." in text
    assert "- PII redaction: on;" in text
    assert "- Split: none; every row is in the `train` split." in text
