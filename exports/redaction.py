"""Replacing personal data in exported text with placeholders, counted by kind.

Four kinds are found, in this order, so that an earlier kind's digits are
gone before a later pattern looks:

- ``email``: ``name@domain.tld``;
- ``card``: 13 to 19 digits, optionally grouped by spaces or dashes, that
  pass the Luhn check;
- ``ssn``: US social security numbers written ``123-45-6789``, without the
  never-issued areas 000, 666 and 900-999, group 00 or serial 0000;
- ``phone``: North American numbers with a separator before the last four
  digits (``555-123-4567``, ``(555) 123 4567``, ``+1 555.123.4567``) and
  international numbers starting with ``+`` and a country code, 8 to 15
  digits in all.

The patterns are heuristics: they miss numbers written without separators
(which are as likely to be order or account numbers) and can match such
numbers when they are formatted like a phone number.

Tool-call arguments and tool results that parse as JSON are redacted value
by value, so they stay valid JSON.
"""

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from .examples import ReviewedExample

PII_KINDS = ("email", "card", "ssn", "phone")
PLACEHOLDERS = {"email": "[EMAIL]", "card": "[CARD]", "ssn": "[SSN]", "phone": "[PHONE]"}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}"
    r"|\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w-])"
)
PHONE_DIGITS = (8, 15)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_placeholder(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return PLACEHOLDERS["card"] if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _phone_placeholder(match: re.Match) -> str:
    digit_count = sum(character.isdigit() for character in match.group())
    low, high = PHONE_DIGITS
    return PLACEHOLDERS["phone"] if low <= digit_count <= high else match.group()


class Redactor:
    """Replace personal data in the texts of examples and keep count of each kind replaced."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter({kind: 0 for kind in PII_KINDS})

    def text(self, text: str) -> str:
        text, found = EMAIL.subn(PLACEHOLDERS["email"], text)
        self.counts["email"] += found
        text = self._replace(CARD_CANDIDATE, _card_placeholder, text, kind="card")
        text, found = SSN.subn(PLACEHOLDERS["ssn"], text)
        self.counts["ssn"] += found
        return self._replace(PHONE, _phone_placeholder, text, kind="phone")

    def _replace(self, pattern: re.Pattern, placeholder: Callable[[re.Match], str], text: str, *, kind: str) -> str:
        def counted(match: re.Match) -> str:
            replacement = placeholder(match)
            if replacement != match.group():
                self.counts[kind] += 1
            return replacement

        return pattern.sub(counted, text)

    def json_text(self, text: str) -> str:
        """Redact a text that may hold JSON: value by value when it parses, as plain text when not."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return self.text(text)
        redacted = self._value(value)
        return text if redacted == value else json.dumps(redacted, ensure_ascii=False)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._value(entry) for key, entry in value.items()}
        if isinstance(value, list):
            return [self._value(entry) for entry in value]
        if isinstance(value, int) and not isinstance(value, bool):
            # A card or phone number stored as a JSON number becomes a placeholder string.
            redacted = self.text(str(value))
            return value if redacted == str(value) else redacted
        return value

    def message(self, message: dict[str, Any]) -> dict[str, Any]:
        redacted = dict(message)
        if isinstance(message.get("content"), str):
            redacted["content"] = (self.json_text if message["role"] == "tool" else self.text)(message["content"])
        if "tool_calls" in message:
            redacted["tool_calls"] = [
                {**call, "function": {**call["function"], "arguments": self.json_text(call["function"]["arguments"])}}
                for call in message["tool_calls"]
            ]
        return redacted

    def example(self, example: ReviewedExample) -> ReviewedExample:
        """Return ``example`` with every message and the provenance's free-text fields redacted."""
        provenance = dict(example.provenance)
        for key in ("source", "external_id", "model"):
            if isinstance(provenance.get(key), str):
                provenance[key] = self.text(provenance[key])
        return dataclasses.replace(
            example,
            context=[self.message(message) for message in example.context],
            original=self.message(example.original),
            gold=self.message(example.gold) if example.gold else None,
            provenance=provenance,
        )
