"""Real human preferences in, training files out: the hh-rlhf helpful-base test split.

Every item is reviewed through the real services as needs_fix with the
crowdworkers' chosen reply as the rewrite (approved where chosen and
rejected are equal). The DPO file must then give back each source pair, and
the SFT file one row per reviewed item. The expected pairs come from an
independent parse of the file, not from the importer.
"""

import gzip
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from exports.services import export_request
from reviews.models import Review, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.exports.conftest import bundle_members, jsonl_rows

pytestmark = pytest.mark.django_db

HH_RLHF = Path(__file__).resolve().parent.parent / "data" / "hh-rlhf_helpful-base_test.jsonl.gz"
TURN = re.compile(r"\n\n(Human|Assistant): ")


def _turns(transcript: str) -> list[dict]:
    parts = TURN.split(transcript)
    roles = {"Human": "user", "Assistant": "assistant"}
    return [{"role": roles[speaker], "content": text} for speaker, text in zip(parts[1::2], parts[2::2])]


def _source_pairs() -> list[tuple[list[dict], str, str]]:
    """Return (prompt, chosen, rejected) per source row, the prompt taken from ``rejected``."""
    pairs = []
    with gzip.open(HH_RLHF, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            chosen, rejected = _turns(row["chosen"]), _turns(row["rejected"])
            pairs.append((rejected[:-1], chosen[-1]["content"], rejected[-1]["content"]))
    return pairs


def _key(prompt: list[dict], chosen: str, rejected: str) -> str:
    return json.dumps([prompt, chosen, rejected], sort_keys=True)


def _review_everything(queue, reviewer, chosen_by_key: dict[str, str]) -> Counter:
    verdicts: Counter = Counter()
    while (assignment := assignment_claim(queue=queue, reviewer=reviewer)) is not None:
        item = assignment.item
        chosen = chosen_by_key[json.dumps([item.conversation, item.response_text], sort_keys=True)]
        if chosen.strip() == item.response_text.strip():
            review_submit(assignment=assignment, reviewer=reviewer, verdict=Review.Verdict.APPROVED)
            verdicts["approved"] += 1
        else:
            review_submit(
                assignment=assignment, reviewer=reviewer, verdict=Review.Verdict.NEEDS_FIX, corrected_response=chosen
            )
            verdicts["needs_fix"] += 1
    return verdicts


@pytest.fixture(scope="module")
def source_pairs():
    return _source_pairs()


@pytest.fixture
def bundle(queue, reviewer, manager, source_pairs, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("import_items", str(HH_RLHF), queue=queue.slug, format_name="hh-rlhf", stdout=io.StringIO())
    chosen_by_key = {
        json.dumps([prompt, rejected], sort_keys=True): chosen for prompt, chosen, rejected in source_pairs
    }
    verdicts = _review_everything(queue, reviewer, chosen_by_key)

    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(requester=manager, kind="both", format="trl", filters={"queues": [queue.slug]})
    job.refresh_from_db()
    return job, verdicts, bundle_members(job)


def _skipped_keys(job) -> Counter:
    """Return the source keys of the items the exporter skipped as invalid training data."""
    skipped_ids = [entry["item_id"] for entry in job.manifest["skipped_items"]]
    keys: Counter = Counter()
    for item in ReviewItem.objects.filter(pk__in=skipped_ids).select_related("final_review"):
        keys[_key(item.conversation, item.final_review.corrected_response.strip(), item.response_text)] += 1
    return keys


def test_dpo_rows_equal_source_pairs(bundle, source_pairs):
    job, _, members = bundle
    exported = Counter(
        _key(row["prompt"], row["chosen"][0]["content"], row["rejected"][0]["content"])
        for row in jsonl_rows(members["dpo.jsonl"])
    )
    # The exporter trims whitespace around a human rewrite, never inside it or in the original reply.
    expected = Counter(
        _key(prompt, chosen.strip(), rejected) for prompt, chosen, rejected in source_pairs
        if chosen.strip() != rejected.strip()
    )

    assert all(row_count == 1 for row_count in expected.values())
    assert exported == expected - _skipped_keys(job)
    assert len(exported) == job.counts["rows"]["dpo"]


def test_sft_has_row_per_reviewed_item(bundle, queue):
    job, verdicts, members = bundle
    rows = jsonl_rows(members["sft.jsonl"])
    skipped = job.counts["items_skipped_invalid"]

    assert ReviewItem.objects.filter(queue=queue).exclude(state=ReviewItem.State.REVIEWED).count() == 0
    assert sum(verdicts.values()) == 2354
    assert len(rows) == 2354 - skipped
    assert len(job.manifest["skipped_items"]) == skipped
    assert len({row["meta_example_id"] for row in rows}) == len(rows)
    assert all(entry["reason"] for entry in job.manifest["skipped_items"])
