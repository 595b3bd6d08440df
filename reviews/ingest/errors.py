"""The error raised for one invalid input row, and JSON type names for its messages."""

from typing import Any


class RowError(ValueError):
    """An invalid value in one input row.

    ``field`` is the path to the value inside the row (``messages[1].role``),
    or empty when the row as a whole is wrong. ``reason`` states what is wrong
    and what to do.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def json_type(value: Any) -> str:
    """Return the JSON type of ``value`` with its article, e.g. ``an array``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def field_join(parent: str, key: str | int) -> str:
    """Return the path of ``key`` inside ``parent``: ``messages[1]`` or ``metadata.topic``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key
