"""Real training clients read every exported file: datasets, trl, Together's checker, openai's types."""

import json
import zipfile

import pytest
from datasets import load_dataset
from datasets.exceptions import DatasetGenerationError
from huggingface_hub import DatasetCard
from together.lib import check_file
from trl import is_conversational

from exports.services import export_request
from reviews.models import Review
from tests.exports.conftest import AMBER_FIX, bundle_unpack, jsonl_rows
from tests.exports.openai_types import check_messages

pytestmark = pytest.mark.django_db

BUNDLES = [
    ("trl", None),
    ("trl", {"validation_ratio": 0.5, "tool_arguments": "string"}),
    ("openai", None),
    ("openai", {"validation_ratio": 0.5, "redact_pii": True}),
]


@pytest.fixture
def bundle_dir(build, mixed_items, tmp_path):
    """Return a function that builds every file of ``export_format`` and unpacks the bundle into a folder."""

    def build_dir(export_format: str, options=None):
        job = build(kind="all", export_format=export_format, options=options)
        return bundle_unpack(job, tmp_path / f"bundle-{job.pk}")

    return build_dir


@pytest.fixture
def text_bundle_dir(build, make_reviewed, tmp_path):
    """A TRL bundle of text-only items, whose card declares features for every config."""
    make_reviewed(Review.Verdict.APPROVED)
    make_reviewed(Review.Verdict.NEEDS_FIX, conversation=[{"role": "user", "content": "WAN light is red."}],
                  corrected_response=AMBER_FIX)
    make_reviewed(Review.Verdict.REJECTED, conversation=[{"role": "user", "content": "LOS light blinks."}])
    return bundle_unpack(build(kind="all"), tmp_path / "text-bundle")


def _cache(tmp_path):
    return str(tmp_path / "hf-cache")


def _manifest(directory) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def _data_files(directory) -> list[dict]:
    return [entry for entry in _manifest(directory)["files"] if "kind" in entry and entry["rows"]]


@pytest.mark.parametrize(("export_format", "options"), BUNDLES)
def test_every_file_loads_with_datasets(bundle_dir, tmp_path, export_format, options):
    directory = bundle_dir(export_format, options)

    entries = _data_files(directory)

    assert {entry["kind"] for entry in entries} == set(_manifest(directory)["kinds"])
    for entry in entries:
        dataset = load_dataset("json", data_files=str(directory / entry["path"]), split="train",
                               cache_dir=_cache(tmp_path))
        assert dataset.num_rows == entry["rows"], entry["path"]


@pytest.mark.parametrize(("export_format", "options"), BUNDLES)
def test_every_card_config_loads(bundle_dir, tmp_path, export_format, options):
    directory = bundle_dir(export_format, options)
    rows = {entry["path"]: entry["rows"] for entry in _manifest(directory)["files"]}

    configs = DatasetCard.load(directory / "README.md").data.to_dict()["configs"]

    assert [config["config_name"] for config in configs] == _manifest(directory)["kinds"]
    for config in configs:
        splits = load_dataset(str(directory), config["config_name"], cache_dir=_cache(tmp_path))
        for data_file in config["data_files"]:
            assert splits[data_file["split"]].num_rows == rows[data_file["path"]] > 0


def test_text_only_configs_load_with_declared_features(text_bundle_dir, tmp_path):
    card = DatasetCard.load(text_bundle_dir / "README.md").data.to_dict()
    declared = {entry["config_name"] for entry in card["dataset_info"]}

    assert declared == {"sft", "dpo", "kto", "sft_messages"}
    for name in declared:
        dataset = load_dataset(str(text_bundle_dir), name, split="train", cache_dir=_cache(tmp_path))
        assert dataset.num_rows > 0
    kto = load_dataset(str(text_bundle_dir), "kto", split="train", cache_dir=_cache(tmp_path))
    assert kto.features["label"].dtype == "bool"


def _rewrite_first_row(path, change) -> None:
    rows = jsonl_rows(path.read_bytes())
    change(rows[0])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        lambda row: row["completion"][0].update(extra="not in the schema"),
        lambda row: row.update(meta_reviewer="not in the schema"),
        lambda row: row.update(prompt="a string, not a list of messages"),
    ],
    ids=["extra message key", "extra column", "string for list"],
)
def test_declared_features_reject_changed_row(text_bundle_dir, tmp_path, change):
    _rewrite_first_row(text_bundle_dir / "sft.jsonl", change)

    with pytest.raises(DatasetGenerationError):
        load_dataset(str(text_bundle_dir), "sft", split="train", cache_dir=_cache(tmp_path))


@pytest.mark.parametrize("options", [None, {"tool_arguments": "string"}])
def test_every_trl_row_is_conversational(bundle_dir, tmp_path, options):
    directory = bundle_dir("trl", options)

    for entry in _data_files(directory):
        dataset = load_dataset("json", data_files=str(directory / entry["path"]), split="train",
                               cache_dir=_cache(tmp_path))
        assert all(is_conversational(row) for row in dataset), entry["path"]


def test_trl_tool_row_survives_loading(bundle_dir, tmp_path):
    dataset = load_dataset("json", data_files=str(bundle_dir("trl") / "sft.jsonl"), split="train",
                           cache_dir=_cache(tmp_path))

    with_tools = [row for row in dataset if row["tools"]]
    assert len(with_tools) == 1
    assert json.loads(with_tools[0]["tools"])[0]["function"]["name"] == "get_order"
    assert with_tools[0]["prompt"][2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "42"}


def test_provenance_file_loads_with_datasets(bundle_dir, tmp_path):
    dataset = load_dataset("json", data_files=str(bundle_dir("trl") / "meta" / "examples.jsonl"), split="train",
                           cache_dir=_cache(tmp_path))

    assert dataset.num_rows == 3 + 2 + 6 + 3
    assert set(dataset.column_names) >= {
        "file", "line", "split", "item_id", "reviewer_id", "verdict", "rubric_version", "trivial_edit",
    }


@pytest.mark.parametrize("options", [None, {"validation_ratio": 0.5, "redact_pii": True}])
def test_openai_files_pass_together_check(bundle_dir, options):
    directory = bundle_dir("openai", options)

    for entry in _data_files(directory):
        report = check_file(directory / entry["path"])
        assert report["is_check_passed"], (entry["path"], report["message"])


def test_every_openai_message_list_passes_openai_types(bundle_dir):
    directory = bundle_dir("openai")
    checked = 0

    for row in jsonl_rows((directory / "sft.jsonl").read_bytes()):
        check_messages(row["messages"])
        checked += 1
    for row in jsonl_rows((directory / "dpo.jsonl").read_bytes()):
        check_messages(row["input"]["messages"])
        check_messages(row["preferred_output"])
        check_messages(row["non_preferred_output"])
        checked += 1

    assert checked == 3 + 2


NEGATIVE_FIXTURES = [
    ("bad role", "sft.jsonl", lambda row: row["messages"][0].update(role="human")),
    ("weight 2", "sft.jsonl", lambda row: row["messages"][-1].update(weight=2)),
    ("extra key", "sft.jsonl", lambda row: row.update(qa_review_id=7)),
    ("two preferred outputs", "dpo.jsonl", lambda row: row["preferred_output"].append(row["preferred_output"][0])),
    ("extra preference key", "dpo.jsonl", lambda row: row.update(qa_review_id=7)),
]


@pytest.mark.parametrize(
    ("name", "change"), [case[1:] for case in NEGATIVE_FIXTURES], ids=[case[0] for case in NEGATIVE_FIXTURES]
)
def test_together_check_rejects_broken_openai_row(bundle_dir, name, change):
    path = bundle_dir("openai") / name
    assert check_file(path)["is_check_passed"]

    _rewrite_first_row(path, change)

    assert not check_file(path)["is_check_passed"]


def test_together_check_rejects_trl_file(bundle_dir):
    report = check_file(bundle_dir("trl") / "sft.jsonl")

    assert not report["is_check_passed"]


def test_unzipped_members_are_world_readable(manager, queue, mixed_items, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]})
    job.refresh_from_db()

    with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}

    assert set(modes.values()) == {0o644}
