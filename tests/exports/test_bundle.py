"""Real training clients read every exported file: datasets, trl, Together's checker, openai's types."""

import json
import zipfile

import pytest
from datasets import load_dataset
from huggingface_hub import DatasetCard
from together.lib import check_file
from trl import is_conversational

from exports.models import ExportJob
from exports.services import export_build, export_request

pytestmark = pytest.mark.django_db

DATA_FILES = ("sft.jsonl", "dpo.jsonl")


@pytest.fixture
def bundle_dir(manager, queue, mixed_items, tmp_path):
    """Return a function that builds a bundle in ``format`` and unpacks it into a folder."""

    def build(export_format: str):
        job = export_request(
            requester=manager, kind="both", format=export_format, filters={"queues": [queue.slug]}, enqueue=False
        )
        job = export_build(job_id=job.pk)
        assert job.state == ExportJob.State.SUCCEEDED, job.error
        target = tmp_path / f"bundle-{export_format}"
        with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
            archive.extractall(target)
        return target

    return build


def _load(path, tmp_path):
    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


@pytest.mark.parametrize("export_format", ["trl", "openai"])
@pytest.mark.parametrize("name", DATA_FILES)
def test_every_file_loads_with_datasets(bundle_dir, tmp_path, export_format, name):
    directory = bundle_dir(export_format)

    dataset = _load(directory / name, tmp_path)

    manifest = json.loads((directory / "manifest.json").read_text())
    rows = {entry["path"]: entry["rows"] for entry in manifest["files"]}
    assert dataset.num_rows == rows[name] > 0


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_trl_row_is_conversational(bundle_dir, tmp_path, name):
    dataset = _load(bundle_dir("trl") / name, tmp_path)

    assert all(is_conversational(row) for row in dataset)


def test_trl_tool_row_survives_loading(bundle_dir, tmp_path):
    dataset = _load(bundle_dir("trl") / "sft.jsonl", tmp_path)

    with_tools = [row for row in dataset if row["tools"]]
    assert len(with_tools) == 1
    assert json.loads(with_tools[0]["tools"])[0]["function"]["name"] == "get_order"
    assert with_tools[0]["prompt"][2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "42"}


def test_provenance_file_loads_with_datasets(bundle_dir, tmp_path):
    dataset = _load(bundle_dir("trl") / "meta" / "examples.jsonl", tmp_path)

    assert dataset.num_rows == 5
    assert set(dataset.column_names) >= {"file", "line", "item_id", "reviewer_id", "verdict", "rubric_version"}


@pytest.mark.parametrize("export_format", ["trl", "openai"])
def test_card_configs_load_by_name(bundle_dir, tmp_path, export_format):
    directory = bundle_dir(export_format)

    card = DatasetCard.load(directory / "README.md")
    configs = card.data.to_dict()["configs"]

    assert [config["config_name"] for config in configs] == ["sft", "dpo"]
    for config in configs:
        dataset = load_dataset(
            str(directory), config["config_name"], split="train", cache_dir=str(tmp_path / "hf-cache")
        )
        assert dataset.num_rows == len((directory / config["data_files"][0]["path"]).read_text().splitlines())


@pytest.mark.parametrize("name", DATA_FILES)
def test_openai_files_pass_together_check(bundle_dir, name):
    report = check_file(bundle_dir("openai") / name)

    assert report["is_check_passed"], report["message"]


def test_together_check_rejects_trl_file(bundle_dir):
    report = check_file(bundle_dir("trl") / "sft.jsonl")

    assert not report["is_check_passed"]
