"""The import formats, their detection, and the conversion of one row into an item record.

Each format module provides ``parts_from_row(row) -> FormatParts``,
``USED_KEYS``, the row keys it reads, and ``EXTRA_KEYS``, other keys of the
dataset's rows, which are kept in the item's metadata. A row may also carry
the optional keys of every format (``external_id``, ``source``, ``model``,
``metadata``, ``tools``). A row with any other key is rejected, as the API
rejects an item with an unknown field, so a misspelt key never goes unnoticed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RowError, UnknownKeysError
from ..messages import text_check
from ..records import OPTIONAL_KEYS, FormatParts, ItemRecord, RowDefaults, row_record
from . import alpaca_eval, chat, hh_rlhf, prompt_response, tau_bench


@dataclass(frozen=True)
class Format:
    name: str
    used_keys: tuple[str, ...]
    extra_keys: tuple[str, ...]
    signature: frozenset[str]
    parts_from_row: Callable[[dict], FormatParts]

    @property
    def allowed_keys(self) -> tuple[str, ...]:
        return (*self.used_keys, *self.extra_keys, *OPTIONAL_KEYS)


# Detection tries the formats in this order and picks the first whose
# signature keys are all in the row. tau-bench comes before chat because
# both contain OpenAI messages.
FORMATS = {
    module.NAME: Format(
        module.NAME, module.USED_KEYS, module.EXTRA_KEYS, frozenset(module.SIGNATURE), module.parts_from_row
    )
    for module in (tau_bench, chat, hh_rlhf, alpaca_eval, prompt_response)
}
FORMAT_NAMES = ("auto", "chat", "prompt-response", "hh-rlhf", "alpaca-eval", "tau-bench")
DETECT_HINT = (
    "no known format matches its keys: expected messages (chat), prompt and response (prompt-response), "
    "chosen and rejected (hh-rlhf), instruction, output_1 and output_2 (alpaca-eval), or traj (tau-bench); "
    "pass --format to choose one"
)


def format_detect(row: dict) -> Format:
    """Return the first format whose signature keys are all in ``row``; raise RowError if none matches."""
    for candidate in FORMATS.values():
        if candidate.signature <= row.keys():
            return candidate
    raise RowError("", DETECT_HINT)


def row_convert(row: dict, *, row_format: Format, defaults: RowDefaults) -> ItemRecord:
    """Validate one row of ``row_format`` and return its item record; raise RowError naming the field.

    A row with keys that the format does not allow raises UnknownKeysError,
    before any other check.
    """
    unknown = sorted(set(row) - set(row_format.allowed_keys))
    if unknown:
        raise UnknownKeysError(unknown, allowed=row_format.allowed_keys, owner=f"the {row_format.name} format")
    text_check(row, field="")
    parts = row_format.parts_from_row(row)
    return row_record(row, parts, format_name=row_format.name, used=row_format.used_keys, defaults=defaults)
