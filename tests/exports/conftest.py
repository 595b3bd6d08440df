"""Fixtures for export tests: reviewed items built through the real claim and submit services."""

import json
import os
import zipfile
from pathlib import Path

import pytest

from reviews.models import Review, ReviewItem
from reviews.services import assignment_claim, review_submit
from tests.factories import ReviewItemFactory

# The validating clients (datasets, trl) must never reach the Hugging Face Hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

SYSTEM = {"role": "system", "content": "You are Acme's router support assistant."}
AMBER_QUESTION = [SYSTEM, {"role": "user", "content": "The WAN light blinks amber."}]
AMBER_REPLY = {"role": "assistant", "content": "Your router is broken; buy a new one."}
AMBER_FIX = "Amber blinking means no upstream signal. Check the coax cable, then power-cycle the modem."

MULTI_TURN = [
    SYSTEM,
    {"role": "user", "content": "How do I change the Wi-Fi password?"},
    {"role": "assistant", "content": "Go to the app."},
    {"role": "user", "content": "Which app, and where in it?"},
]
MULTI_TURN_REPLY = {"role": "assistant", "content": "Open the Acme Home app."}
MULTI_TURN_FIX = "Open the Acme Home app, tap your router, then Wi-Fi > Password."

ORDER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "Look up an order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
        },
    }
]
# A tau-bench style trajectory: the model called a tool and read its result.
TOOL_CONVERSATION = [
    {"role": "system", "content": "You are a retail agent. Use the tools to answer."},
    {"role": "user", "content": "Is order 42 shipped?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_order", "arguments": "{\"order_id\": \"42\"}"},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "name": "get_order", "content": "{\"status\": \"shipped\"}"},
]
TOOL_REPLY = {"role": "assistant", "content": "It is on its way."}
TOOL_FIX = "Yes, order 42 shipped today."
TOOL_CALL_REPLY = {
    "role": "assistant",
    "content": "",
    "tool_calls": [
        {"id": "call_2", "type": "function", "function": {"name": "get_order", "arguments": "{\"order_id\": \"43\"}"}}
    ],
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Keep stored bundles under the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_reviewed(queue, reviewer):
    """Return a function that ingests one item and reviews it through claim and submit."""

    def make(verdict: str, *, conversation=None, response=None, corrected_response: str = "", tools=None,
             reviewer_user=None, item_queue=None, turn_index=None, preferred="", **fields) -> ReviewItem:
        item_queue = item_queue or queue
        reviewer_user = reviewer_user or reviewer
        item = ReviewItemFactory(
            queue=item_queue,
            conversation=conversation if conversation is not None else AMBER_QUESTION,
            response=response if response is not None else AMBER_REPLY,
            tools=tools,
            **fields,
        )
        assignment = assignment_claim(queue=item_queue, reviewer=reviewer_user)
        assert assignment.item_id == item.pk
        review_submit(
            assignment=assignment,
            reviewer=reviewer_user,
            verdict=verdict,
            corrected_response=corrected_response,
            reason="Wrong diagnosis." if verdict == Review.Verdict.REJECTED else "",
            turn_index=turn_index,
            preferred=preferred,
        )
        item.refresh_from_db()
        return item

    return make


@pytest.fixture
def mixed_items(make_reviewed):
    """One approved, one fixed multi-turn, one fixed tool-calling and one rejected item."""
    return [
        make_reviewed(Review.Verdict.APPROVED),
        make_reviewed(Review.Verdict.NEEDS_FIX, conversation=MULTI_TURN, response=MULTI_TURN_REPLY,
                      corrected_response=MULTI_TURN_FIX),
        make_reviewed(Review.Verdict.NEEDS_FIX, conversation=TOOL_CONVERSATION, response=TOOL_REPLY,
                      corrected_response=TOOL_FIX, tools=ORDER_TOOLS),
        make_reviewed(Review.Verdict.REJECTED),
    ]


def bundle_members(job) -> dict[str, bytes]:
    """Return every member of ``job``'s stored zip by name."""
    with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def jsonl_rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


@pytest.fixture
def build(manager, queue):
    """Return a function that requests and builds one export of ``queue`` in-process and returns the job."""
    from exports.services import export_build, export_request

    def build_job(*, kind: str = "both", export_format: str = "trl", options=None, filters=None, requester=None):
        job = export_request(
            requester=requester or manager, kind=kind, format=export_format,
            filters=filters or {"queues": [queue.slug]}, options=options, enqueue=False,
        )
        job = export_build(job_id=job.pk)
        assert job.state == "succeeded", job.error
        return job

    return build_job


def bundle_unpack(job, target: Path) -> Path:
    """Extract ``job``'s stored zip into the folder ``target`` and return it."""
    with job.bundle.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        archive.extractall(target)
    return target
