"""TRL unpaired preference rows for KTOTrainer (``kto.jsonl`` in format ``trl``).

Each row is ``prompt`` / ``completion`` / ``label``. An approved reply is
desirable (``true``) and a rejected one undesirable (``false``). A needs_fix
item gives two rows from the one review: the human rewrite as desirable and
the original reply as undesirable, because the reviewer judged the original
not good enough and wrote the reply that should have been given. When the
rewrite equals the original once whitespace is collapsed, only the
desirable row is written, since the same text cannot carry both labels.
"""

from typing import Any

from exports.examples import ReviewedExample
from exports.messages import trl_context_shared, trl_shared, trl_tools_shared
from reviews.models import Review

from . import FileWriter, Row, RowLayout, json_list_feature, messages_feature, register


def _labelled(example: ReviewedExample) -> list[tuple[dict[str, Any], bool]]:
    if example.verdict == Review.Verdict.APPROVED:
        return [(example.original, True)]
    if example.verdict == Review.Verdict.REJECTED:
        return [(example.original, False)]
    if example.pair_is_identical:
        return [(example.gold, True)]
    return [(example.gold, True), (example.original, False)]


def rows(example: ReviewedExample, tool_arguments: str) -> list[Row]:
    prompt = trl_context_shared(example, tool_arguments=tool_arguments)
    return [
        {
            "prompt": prompt,
            "completion": [trl_shared(example, reply, tool_arguments=tool_arguments)],
            "label": label,
            **trl_tools_shared(example),
            "meta_example_id": example.example_id,
        }
        for reply, label in _labelled(example)
    ]


WRITER = register(
    FileWriter(
        format="trl",
        format_title="TRL conversational",
        kind="kto",
        kind_title="KTO (unpaired preference)",
        file_format="trl.conversational.unpaired_preference",
        summary=(
            "Unpaired preference rows (`prompt` / `completion` / `label`) for `KTOTrainer`: approved replies "
            "and human rewrites are `true`, rejected replies and the originals of fixed ones `false`."
        ),
        rows=rows,
        layout=RowLayout(messages="prompt", replies=("completion",), label="label", dialect="trl"),
        features=[messages_feature("prompt"), messages_feature("completion"), {"name": "label", "dtype": "bool"},
                  {"name": "meta_example_id", "dtype": "string"}],
        json_features=[json_list_feature("prompt"), json_list_feature("completion"), {"name": "label", "dtype": "bool"},
                       {"name": "tools", "dtype": "string"}, {"name": "meta_example_id", "dtype": "string"}],
        drops_identical_pairs=True,
    )
)
