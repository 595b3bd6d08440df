"""``{"prompt": str, "response": str}``: one user message and the reply under review."""

from ..errors import RowError, json_type
from ..messages import assistant_message
from ..records import FormatParts

NAME = "prompt-response"
SIGNATURE = ("prompt", "response")
USED_KEYS = ("prompt", "response")
EXTRA_KEYS: tuple[str, ...] = ()


def parts_from_row(row: dict) -> FormatParts:
    prompt = row.get("prompt")
    if not isinstance(prompt, str):
        raise RowError("prompt", f"expected the user message as a string, got {json_type(prompt)}")
    if not prompt.strip():
        raise RowError("prompt", "empty text; give the user message before the reply")
    if "response" not in row:
        raise RowError("response", "missing; give the reply to review")
    return FormatParts(
        conversation=[{"role": "user", "content": prompt}],
        response=assistant_message(row["response"], field="response"),
    )
