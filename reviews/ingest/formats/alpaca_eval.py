"""AlpacaEval annotations: ``output_2`` is the reply under review and ``output_1`` its reference.

``generator_2`` becomes the item's model. The other keys of an AlpacaEval
annotation (``dataset``, ``preference``, ``generator_1``, ``annotator``, the
judge's cost and time, and its ``raw_completion``) stay in metadata. In
AlpacaEval, ``preference`` 1 means the judge preferred ``output_1``, 2 means
``output_2``, and 0 a draw.
"""

from ..errors import RowError, json_type
from ..messages import assistant_message
from ..records import FormatParts

NAME = "alpaca-eval"
SIGNATURE = ("instruction", "output_1", "output_2")
USED_KEYS = ("instruction", "output_1", "output_2", "generator_2")
# alpaca_eval's BaseAnnotator writes annotator, preference, price_per_example, time_per_example and
# raw_completion next to the outputs, and its annotation files also name the baseline and the dataset.
EXTRA_KEYS = (
    "generator_1", "dataset", "annotator", "preference", "price_per_example", "time_per_example", "raw_completion",
)


def parts_from_row(row: dict) -> FormatParts:
    instruction = row.get("instruction")
    if not isinstance(instruction, str):
        raise RowError("instruction", f"expected the user instruction as a string, got {json_type(instruction)}")
    if not instruction.strip():
        raise RowError("instruction", "empty text; give the instruction that the outputs respond to")
    for key in ("output_1", "output_2"):
        if key not in row:
            raise RowError(key, "missing; an AlpacaEval row contains the baseline output_1 and the output_2 under review")
    generator = row.get("generator_2", "")
    if not isinstance(generator, str):
        raise RowError("generator_2", f"expected the model name as a string, got {json_type(generator)}")

    return FormatParts(
        conversation=[{"role": "user", "content": instruction}],
        response=assistant_message(row["output_2"], field="output_2"),
        reference_response=assistant_message(row["output_1"], field="output_1"),
        model=generator,
    )
