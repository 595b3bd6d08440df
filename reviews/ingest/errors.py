"""The errors raised for an invalid input row, and JSON type names for their messages."""

from collections.abc import Sequence
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

    def field_reasons(self) -> dict[str, str]:
        """Return the reason per field path; a reason about the row as a whole is under ``""``."""
        return {self.field: self.reason}


class UnknownKeysError(RowError):
    """Keys of a row that its format does not define, with the row's first other error, if any.

    The message names every key and lists the keys that ``owner`` (``the
    chat format``, ``an item``) allows. ``field_reasons()`` gives one reason
    per unknown key, then the reasons of ``other``.
    """

    def __init__(self, keys: Sequence[str], *, allowed: Sequence[str], owner: str,
                 other: RowError | None = None) -> None:
        names = ", ".join(repr(key) for key in keys)
        pronoun = "it" if len(keys) == 1 else "them"
        noun = "key" if len(keys) == 1 else "keys"
        reason = (
            f"unknown {noun} {names}; move {pronoun} into metadata or remove {pronoun}. "
            f"{owner[:1].upper()}{owner[1:]} allows {words_join(allowed)}."
        )
        super().__init__("", reason)
        self.keys = tuple(keys)
        self.allowed = tuple(allowed)
        self.owner = owner
        self.other = other

    def field_reasons(self) -> dict[str, str]:
        reasons = dict.fromkeys(self.keys, f"unknown field; {self.owner} has {', '.join(self.allowed)}")
        if self.other is not None:
            reasons.update(self.other.field_reasons())
        return reasons


def words_join(words: Sequence[str]) -> str:
    """Join ``words`` as ``a, b and c``."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


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
