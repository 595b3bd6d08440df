"""TRL language-modeling SFT on whole conversations (``sft_messages.jsonl`` in format ``trl``).

Each row's ``messages`` is the conversation before the reviewed reply plus
the reply to train on. Trained as it is, SFTTrainer computes the loss on
every token, and with ``assistant_only_loss=True`` on every assistant turn,
so earlier, unreviewed assistant turns are trained on too. Use ``sft.jsonl``
to train on the reviewed reply only; this file suits tools that read
``messages`` and can mask all but the last turn (LLaMA-Factory's
``mask_history: true``).
"""

from exports.examples import ReviewedExample
from exports.messages import trl_context_shared, trl_shared, trl_tools_shared

from . import FileWriter, Row, RowLayout, json_list_feature, messages_feature, register


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    target = example.sft_target
    if target is None:
        return []
    messages = [*trl_context_shared(example, tool_arguments=tool_arguments),
                trl_shared(example, target, tool_arguments=tool_arguments)]
    return [{"messages": messages, **trl_tools_shared(example), "meta_example_id": example.example_id}]


WRITER = register(
    FileWriter(
        format="trl",
        format_title="TRL conversational",
        kind="sft_messages",
        kind_title="SFT on whole conversations",
        file_format="trl.conversational.language_modeling",
        summary=(
            "Whole conversations in `messages`, reviewed reply last. The loss covers earlier, unreviewed "
            "assistant turns too unless the trainer masks all but the last turn."
        ),
        rows=rows,
        layout=RowLayout(messages="messages", dialect="trl"),
        features=[messages_feature("messages"), {"name": "meta_example_id", "dtype": "string"}],
        json_features=[json_list_feature("messages"), {"name": "tools", "dtype": "string"},
                       {"name": "meta_example_id", "dtype": "string"}],
    )
)
