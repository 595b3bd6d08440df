"""OpenAI-compatible chat fine-tuning format, which Together, Fireworks and Azure OpenAI also document.

SFT rows hold the whole conversation in ``messages``. Earlier assistant turns
were never reviewed, so they carry ``"weight": 0`` and only the reviewed reply
carries ``"weight": 1``. Preference rows are ``input.messages`` (ending with a
user or tool turn) plus exactly one assistant message in ``preferred_output``
and in ``non_preferred_output``. Tool-call arguments stay JSON strings. No
key outside the format is written, because Together's file check (together
2.14.0) rejects extra columns, so provenance goes to ``meta/examples.jsonl``.
"""

from typing import Any

from exports.examples import ReviewedExample

from . import ExportFormat, Row, register


def _message(message: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"role": message["role"]}
    if message["content"] is not None or "tool_calls" not in message:
        converted["content"] = message["content"] or ""
    if "tool_calls" in message:
        converted["tool_calls"] = [
            {"id": call["id"], "type": "function", "function": dict(call["function"])} for call in message["tool_calls"]
        ]
    if "tool_call_id" in message:
        converted["tool_call_id"] = message["tool_call_id"]
    return converted


def _weighted(message: dict[str, Any], weight: int) -> dict[str, Any]:
    converted = _message(message)
    if message["role"] == "assistant":
        converted["weight"] = weight
    return converted


def _tools(row: Row, example: ReviewedExample) -> Row:
    if example.tools:
        row["tools"] = example.tools
    return row


def sft_rows(example: ReviewedExample) -> list[Row]:
    target = example.sft_target
    if target is None:
        return []
    messages = [_weighted(m, 0) for m in example.context] + [_weighted(target, 1)]
    return [_tools({"messages": messages}, example)]


def dpo_rows(example: ReviewedExample) -> list[Row]:
    pair = example.preference_pair
    if pair is None:
        return []
    chosen, rejected = pair
    return [
        {
            "input": _tools({"messages": [_message(m) for m in example.context]}, example),
            "preferred_output": [_message(chosen)],
            "non_preferred_output": [_message(rejected)],
        }
    ]


OPENAI = register(
    ExportFormat(
        name="openai",
        title="OpenAI-compatible chat",
        sft_format="openai.chat.sft",
        dpo_format="openai.preference",
        tool_arguments="json_string",
        training_note=(
            "`sft.jsonl` holds `messages` rows: earlier, unreviewed assistant turns carry `weight: 0` and "
            "the reviewed reply `weight: 1`. `dpo.jsonl` holds `input` / `preferred_output` / "
            "`non_preferred_output` rows. Tool-call arguments are JSON strings."
        ),
        sft_rows=sft_rows,
        dpo_rows=dpo_rows,
    )
)
