"""TRL conversational format (trl 1.x dataset formats).

SFT rows are prompt-completion pairs: the prompt is the conversation before
the reviewed reply, including earlier assistant turns, and the completion is
the reviewed reply, so SFTTrainer computes the loss on the reviewed reply only.
Preference rows use the explicit-prompt layout ``prompt``/``chosen``/``rejected``.
``tools`` is a JSON string, which the SFT and DPO trainers of trl 1.16 parse. Tool-call arguments
are objects, as TRL's documentation shows them. Our own columns carry the
``meta_`` prefix, because TRL reserves names such as ``labels`` and ``input_ids``.
"""

import json
from typing import Any

from exports.examples import ReviewedExample

from . import ExportFormat, Row, register


def _message(message: dict[str, Any]) -> dict[str, Any]:
    converted = {"role": message["role"], "content": message["content"] or ""}
    if "tool_calls" in message:
        converted["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": json.loads(call["function"]["arguments"])},
            }
            for call in message["tool_calls"]
        ]
    for key in ("tool_call_id", "name"):
        if key in message:
            converted[key] = message[key]
    return converted


def _with_tools_and_id(row: Row, example: ReviewedExample) -> Row:
    if example.tools:
        row["tools"] = json.dumps(example.tools, ensure_ascii=False)
    row["meta_example_id"] = example.example_id
    return row


def sft_rows(example: ReviewedExample) -> list[Row]:
    target = example.sft_target
    if target is None:
        return []
    row = {"prompt": [_message(m) for m in example.context], "completion": [_message(target)]}
    return [_with_tools_and_id(row, example)]


def dpo_rows(example: ReviewedExample) -> list[Row]:
    pair = example.preference_pair
    if pair is None:
        return []
    chosen, rejected = pair
    row = {
        "prompt": [_message(m) for m in example.context],
        "chosen": [_message(chosen)],
        "rejected": [_message(rejected)],
    }
    return [_with_tools_and_id(row, example)]


TRL = register(
    ExportFormat(
        name="trl",
        title="TRL conversational",
        sft_format="trl.conversational.prompt_completion",
        dpo_format="trl.conversational.preference",
        tool_arguments="object",
        training_note=(
            "`sft.jsonl` holds conversational prompt-completion rows: `SFTTrainer` computes the loss on "
            "the completion (the reviewed reply) only. `dpo.jsonl` holds explicit-prompt preference rows "
            "for `DPOTrainer`. `tools` is a JSON string and tool-call arguments are objects."
        ),
        sft_rows=sft_rows,
        dpo_rows=dpo_rows,
    )
)
