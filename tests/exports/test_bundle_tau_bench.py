"""Real multi-turn, tool-calling conversations through every format: Sierra's tau-bench airline trajectories.

The file is imported with ``import_items`` and every item is reviewed
through the claim and submit services: a third approved, a third fixed with
a written rewrite, a third rejected. Every file of both formats is then
read by the real clients (datasets, Together's checker, openai's types)
and checked for the tool-call rules independently of our own validator.
TRL's trainers are not run here: every trajectory opens with a long airline
policy, too long for the tiny test model.
"""

import io
import json
from pathlib import Path

import pytest
from datasets import load_dataset
from django.core.management import call_command
from huggingface_hub import DatasetCard
from together.lib import check_file
from trl import is_conversational

from exports.services import export_build, export_request
from reviews.models import Review
from reviews.services import assignment_claim, review_submit
from tests.exports.conftest import bundle_unpack, jsonl_rows
from tests.exports.openai_types import check_messages

pytestmark = pytest.mark.django_db

TAU_BENCH = Path(__file__).resolve().parent.parent / "data" / "tau-bench_gpt-4o-airline_trajectories.json"
TRAJECTORIES = 200


def _review_everything(queue, reviewer) -> dict[str, int]:
    verdicts = {"approved": 0, "needs_fix": 0, "rejected": 0}
    number = 0
    while (assignment := assignment_claim(queue=queue, reviewer=reviewer)) is not None:
        verdict = ("approved", "needs_fix", "rejected")[number % 3]
        rewrite = "I have checked your reservation; here is what I can do next." if verdict == "needs_fix" else ""
        review_submit(assignment=assignment, reviewer=reviewer, verdict=verdict, corrected_response=rewrite,
                      reason="Acted without the user's confirmation." if verdict == "rejected" else "")
        verdicts[verdict] += 1
        number += 1
    return verdicts


@pytest.fixture
def tau_bench_export(queue, reviewer, manager, settings, tmp_path):
    """Import and review the trajectories; return the verdicts and a function that builds and unpacks one format."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("import_items", str(TAU_BENCH), queue=queue.slug, format_name="tau-bench", stdout=io.StringIO())
    verdicts = _review_everything(queue, reviewer)

    def build(export_format: str):
        job = export_request(requester=manager, kind="all", format=export_format,
                             filters={"queues": [queue.slug]}, enqueue=False)
        job = export_build(job_id=job.pk)
        assert job.state == "succeeded", job.error
        return job, bundle_unpack(job, tmp_path / export_format)

    return verdicts, build


def _conversations(row: dict) -> list[list[dict]]:
    """Return every full conversation a row holds: prompt plus each reply, or its whole message list."""
    if "messages" in row:
        return [row["messages"]]
    if "input" in row:
        return [row["input"]["messages"] + row[key] for key in ("preferred_output", "non_preferred_output")]
    replies = [key for key in ("completion", "chosen", "rejected") if key in row]
    return [row["prompt"] + row[key] for key in replies]


def _check_tool_links(conversation: list[dict], *, string_arguments: bool) -> int:
    """Check that every tool result follows its call and that arguments use the file's encoding.

    Returns how many tool calls the conversation contains.
    """
    call_ids, calls = set(), 0
    for message in conversation:
        for call in message.get("tool_calls", []):
            arguments = call["function"]["arguments"]
            assert isinstance(arguments, str) == string_arguments, call
            assert isinstance(json.loads(arguments) if string_arguments else arguments, dict), call
            call_ids.add(call["id"])
            calls += 1
        if message["role"] == "tool":
            assert message["tool_call_id"] in call_ids, message
    return calls


def _load_everything(job, directory, tmp_path) -> None:
    """Load every data file and every card config with ``datasets``, checking the row counts."""
    cache = str(tmp_path / "hf-cache")
    for entry in job.manifest["files"]:
        dataset = load_dataset("json", data_files=str(directory / entry["path"]), split="train", cache_dir=cache)
        assert dataset.num_rows == entry["rows"] > 0, entry["path"]
    for config in DatasetCard.load(directory / "README.md").data.to_dict()["configs"]:
        dataset = load_dataset(str(directory), config["config_name"], split="train", cache_dir=cache)
        assert dataset.num_rows == job.counts["rows"][config["config_name"]]


def test_trl_files_carry_multi_turn_tool_calls(tau_bench_export, tmp_path):
    verdicts, build = tau_bench_export
    job, directory = build("trl")

    assert sum(verdicts.values()) == job.counts["items"] == TRAJECTORIES
    assert job.counts["rows_invalid"] == 0
    assert job.counts["rows"]["kto"] > 0
    _load_everything(job, directory, tmp_path)
    calls = 0
    for kind in job.manifest["kinds"]:
        for row in jsonl_rows((directory / f"{kind}.jsonl").read_bytes()):
            assert is_conversational(row)
            for conversation in _conversations(row):
                calls += _check_tool_links(conversation, string_arguments=False)
    assert calls > 1000
    prompts = [row["prompt"] for row in jsonl_rows((directory / "sft.jsonl").read_bytes())]
    assert max(sum(message["role"] == "assistant" for message in prompt) for prompt in prompts) > 5


def test_openai_files_pass_real_clients(tau_bench_export, tmp_path):
    _, build = tau_bench_export
    job, directory = build("openai")

    assert job.counts["rows_invalid"] == 0
    _load_everything(job, directory, tmp_path)
    for kind in ("sft", "dpo"):
        report = check_file(directory / f"{kind}.jsonl")
        assert report["is_check_passed"], report["message"]
    calls = 0
    for row in jsonl_rows((directory / "sft.jsonl").read_bytes()):
        check_messages(row["messages"])
        weights = [message["weight"] for message in row["messages"] if message["role"] == "assistant"]
        assert weights[-1] == 1
        assert set(weights[:-1]) <= {0}
        calls += _check_tool_links(row["messages"], string_arguments=True)
    for row in jsonl_rows((directory / "dpo.jsonl").read_bytes()):
        check_messages(row["input"]["messages"] + row["preferred_output"] + row["non_preferred_output"])
        assert row["input"]["messages"][-1]["role"] in ("user", "tool")
        for conversation in _conversations(row):
            calls += _check_tool_links(conversation, string_arguments=True)
    assert calls > 1000
