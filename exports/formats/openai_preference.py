"""OpenAI-compatible preference fine-tuning (``dpo.jsonl`` in format ``openai``).

Rows are ``input.messages`` (ending with a user or tool turn) plus exactly
one assistant message in ``preferred_output`` (the human rewrite) and in
``non_preferred_output`` (the original reply). Tool-call arguments stay JSON
strings and no key outside the format is written.
"""

from exports.examples import ReviewedExample
from exports.messages import openai_context_shared, openai_shared

from . import FileWriter, Row, RowLayout, json_list_feature, messages_feature, register


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    pair = example.preference_pair
    if pair is None:
        return []
    chosen, rejected = pair
    prompt: Row = {"messages": openai_context_shared(example)}
    if example.tools:
        prompt["tools"] = example.tools
    return [
        {
            "input": prompt,
            "preferred_output": [openai_shared(example, chosen)],
            "non_preferred_output": [openai_shared(example, rejected)],
        }
    ]


WRITER = register(
    FileWriter(
        format="openai",
        format_title="OpenAI-compatible chat",
        kind="dpo",
        kind_title="DPO",
        file_format="openai.preference",
        summary="`input` / `preferred_output` / `non_preferred_output` rows for preference fine-tuning.",
        rows=rows,
        layout=RowLayout(
            messages="input.messages", replies=("preferred_output", "non_preferred_output"), pair=True,
            tools="input.tools", dialect="openai",
        ),
        features=[
            {"name": "input", "struct": [messages_feature("messages")]},
            messages_feature("preferred_output"),
            messages_feature("non_preferred_output"),
        ],
        json_features=[
            {"name": "input", "struct": [json_list_feature("messages"), json_list_feature("tools")]},
            json_list_feature("preferred_output"),
            json_list_feature("non_preferred_output"),
        ],
        tool_arguments=("string",),
        drops_identical_pairs=True,
    )
)
