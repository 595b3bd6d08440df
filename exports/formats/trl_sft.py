"""TRL conversational prompt-completion SFT (``sft.jsonl`` in format ``trl``).

The prompt is the conversation before the reviewed reply, earlier assistant
turns included, and the completion is the reviewed reply: the original when
approved, the human rewrite when it needed a fix. SFTTrainer computes the loss
on the completion only by default (trl 1.16), so unreviewed turns are never
trained on.
"""

from exports.examples import ReviewedExample
from exports.messages import trl_context_shared, trl_shared, trl_tools_shared

from . import FileWriter, Row, RowLayout, json_list_feature, messages_feature, register


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    target = example.sft_target
    if target is None:
        return []
    row = {
        "prompt": trl_context_shared(example, tool_arguments=tool_arguments),
        "completion": [trl_shared(example, target, tool_arguments=tool_arguments)],
    }
    return [{**row, **trl_tools_shared(example), "meta_example_id": example.example_id}]


WRITER = register(
    FileWriter(
        format="trl",
        format_title="TRL conversational",
        kind="sft",
        kind_title="SFT",
        file_format="trl.conversational.prompt_completion",
        summary=(
            "Conversational prompt-completion rows for `SFTTrainer`: the loss falls on the completion, "
            "the reviewed reply, only."
        ),
        rows=rows,
        layout=RowLayout(messages="prompt", replies=("completion",), dialect="trl"),
        features=[messages_feature("prompt"), messages_feature("completion"),
                  {"name": "meta_example_id", "dtype": "string"}],
        json_features=[json_list_feature("prompt"), json_list_feature("completion"),
                       {"name": "tools", "dtype": "string"}, {"name": "meta_example_id", "dtype": "string"}],
    )
)
