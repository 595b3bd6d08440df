"""OpenAI-compatible chat SFT (``sft.jsonl`` in format ``openai``).

Together, Fireworks and Azure OpenAI document the same layout. Rows hold
the whole conversation in ``messages``. Earlier assistant turns were never
reviewed, so they carry ``"weight": 0`` and only the reviewed reply carries
``"weight": 1``. No key outside the format is written, because
Together's file check (together 2.14.0) rejects extra columns, so provenance
goes to ``meta/examples.jsonl``.
"""

from typing import Any

from exports.examples import ReviewedExample
from exports.messages import openai_context_shared, openai_shared

from . import FileWriter, Row, RowLayout, json_list_feature, register


def _weighted(message: dict[str, Any], weight: int) -> dict[str, Any]:
    # Only assistant turns get a weight, so the other messages stay the objects other files share.
    if message["role"] == "assistant":
        return {**message, "weight": weight}
    return message


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    target = example.sft_target
    if target is None:
        return []
    messages = [_weighted(message, 0) for message in openai_context_shared(example)]
    row: Row = {"messages": [*messages, _weighted(openai_shared(example, target), 1)]}
    if example.tools:
        row["tools"] = example.tools
    return [row]


WRITER = register(
    FileWriter(
        format="openai",
        format_title="OpenAI-compatible chat",
        kind="sft",
        kind_title="SFT",
        file_format="openai.chat.sft",
        summary=(
            "`messages` rows: earlier, unreviewed assistant turns carry `weight: 0` and the reviewed reply "
            "`weight: 1`."
        ),
        rows=rows,
        layout=RowLayout(messages="messages", weighted=True, dialect="openai"),
        # Only assistant turns carry ``weight``, so no fixed message schema fits these rows.
        features=None,
        json_features=[json_list_feature("messages"), json_list_feature("tools")],
        tool_arguments=("string",),
    )
)
