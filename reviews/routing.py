"""Routing rules: which newly ingested items a queue takes, and the deterministic share it samples.

A queue's ``routing_rules`` is an object with any of ``source``, ``model``
(a string or a list of accepted strings) and ``metadata`` (an object whose
values are a value or a list of accepted values). An item matches when
every given rule accepts it. Empty rules match nothing, so a queue takes
routed items only once a manager sets rules on it.
"""

import hashlib
from typing import Any

from django.core.exceptions import ValidationError

RULE_KEYS = ("source", "model", "metadata")


def _accepted(rule: Any) -> list:
    return rule if isinstance(rule, list) else [rule]


def routing_rules_check(rules: Any) -> None:
    """Raise ValidationError naming the first malformed part of ``rules``."""
    if not isinstance(rules, dict):
        raise ValidationError({"routing_rules": "Routing rules must be an object with source, model or metadata."})
    unknown = sorted(set(rules) - set(RULE_KEYS))
    if unknown:
        raise ValidationError({"routing_rules": f"Unknown routing rule {unknown[0]!r}; use source, model or metadata."})
    for key in ("source", "model"):
        if key in rules and not all(isinstance(value, str) and value for value in _accepted(rules[key])):
            raise ValidationError({"routing_rules": f"Rule {key!r} must be a non-empty string or a list of them."})
    if "metadata" in rules and not isinstance(rules["metadata"], dict):
        raise ValidationError({"routing_rules": "Rule 'metadata' must be an object of metadata keys and accepted values."})


def rules_match(rules: dict, *, source: str, model: str, metadata: dict) -> bool:
    """Return whether an item with these fields matches every rule in ``rules``."""
    if not rules:
        return False
    if "source" in rules and source not in _accepted(rules["source"]):
        return False
    if "model" in rules and model not in _accepted(rules["model"]):
        return False
    for key, accepted in rules.get("metadata", {}).items():
        if key not in metadata or metadata[key] not in _accepted(accepted):
            return False
    return True


def sample_point(*, source: str, external_id: str) -> float:
    """Return a number in [0, 1) fixed by ``source`` and ``external_id``.

    A queue with ``sampling_rate`` r takes the items whose point is below r,
    so re-sending an item routes it the same way, and raising r only adds items.
    """
    digest = hashlib.sha256(f"{source}\x00{external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
