"""TRL conversational preference pairs with an explicit prompt (``dpo.jsonl`` in format ``trl``).

Only a needs_fix verdict gives a pair: chosen is the human rewrite, rejected
the original reply, and the prompt the conversation before it. A pair whose
two replies are equal once whitespace is collapsed carries no signal and is
left out.
"""

from exports.examples import ReviewedExample
from exports.messages import trl_context_shared, trl_shared, trl_tools_shared

from . import FileWriter, Row, RowLayout, json_list_feature, messages_feature, register


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    pair = example.preference_pair
    if pair is None:
        return []
    chosen, rejected = pair
    row = {
        "prompt": trl_context_shared(example, tool_arguments=tool_arguments),
        "chosen": [trl_shared(example, chosen, tool_arguments=tool_arguments)],
        "rejected": [trl_shared(example, rejected, tool_arguments=tool_arguments)],
    }
    return [{**row, **trl_tools_shared(example), "meta_example_id": example.example_id}]


WRITER = register(
    FileWriter(
        format="trl",
        format_title="TRL conversational",
        kind="dpo",
        kind_title="DPO",
        file_format="trl.conversational.preference",
        summary="Explicit-prompt preference rows (`prompt` / `chosen` / `rejected`) for `DPOTrainer`.",
        rows=rows,
        layout=RowLayout(messages="prompt", replies=("chosen", "rejected"), pair=True, dialect="trl"),
        features=[messages_feature("prompt"), messages_feature("chosen"), messages_feature("rejected"),
                  {"name": "meta_example_id", "dtype": "string"}],
        json_features=[json_list_feature("prompt"), json_list_feature("chosen"), json_list_feature("rejected"),
                       {"name": "tools", "dtype": "string"}, {"name": "meta_example_id", "dtype": "string"}],
        drops_identical_pairs=True,
    )
)
