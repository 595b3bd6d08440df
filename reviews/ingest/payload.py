"""Items in the stored shape, as ``POST /api/v1/items/`` accepts them.

An item is ``{[queue], conversation, response, [reference_response], [tools],
[model], [metadata], [source], [external_id], [is_pairwise],
[turn_selectable]}``; without ``queue`` the queues' routing rules choose one.
``is_pairwise`` asks the reviewer to compare the response (A) with the
reference response (B); ``turn_selectable`` lets them pick the assistant turn
under review. ``response`` and
``reference_response`` are a string or an assistant message; ``source``
defaults to ``api``.
"""

from dataclasses import replace
from typing import Any

from .errors import RowError, UnknownKeysError, json_type
from .messages import assistant_message, messages_validate, text_check
from .records import ItemRecord, record_build

PAYLOAD_KEYS = (
    "queue", "conversation", "response", "reference_response", "tools", "model", "metadata", "source", "external_id",
    "is_pairwise", "turn_selectable",
)
DEFAULT_SOURCE = "api"


def payload_record(payload: Any, *, label: str = "") -> tuple[str | None, ItemRecord]:
    """Validate one API item and return its queue slug (None when left out) and record; raise RowError naming the field.

    An item with unknown keys raises UnknownKeysError, which also carries the
    first error among the item's other keys.
    """
    if not isinstance(payload, dict):
        raise RowError("", f"expected an item object, got {json_type(payload)}")
    unknown = sorted(set(payload) - set(PAYLOAD_KEYS))
    if not unknown:
        return _known_payload_record(payload, label=label)
    try:
        _known_payload_record({key: payload[key] for key in payload if key in PAYLOAD_KEYS}, label=label)
    except RowError as error:
        raise UnknownKeysError(unknown, allowed=PAYLOAD_KEYS, owner="an item", other=error) from None
    raise UnknownKeysError(unknown, allowed=PAYLOAD_KEYS, owner="an item")


def _known_payload_record(payload: dict, *, label: str) -> tuple[str | None, ItemRecord]:
    queue = payload.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        raise RowError(
            "queue", "invalid; give the slug of the queue that receives the item, or leave queue out to route the item"
        )
    text_check(payload, field="")

    for key in ("conversation", "response"):
        if key not in payload:
            raise RowError(key, "missing; an item needs the conversation and the response under review")
    conversation = messages_validate(payload["conversation"], field="conversation")
    if not conversation:
        raise RowError("conversation", "empty; give at least the user message before the response")
    reference = payload.get("reference_response")
    record = record_build(
        conversation=conversation,
        response=assistant_message(payload["response"], field="response"),
        reference_response=None if reference is None else assistant_message(reference, field="reference_response"),
        tools=payload.get("tools"),
        model=payload.get("model"),
        metadata=payload.get("metadata"),
        source=payload.get("source", DEFAULT_SOURCE),
        external_id=payload.get("external_id"),
        label=label,
    )
    return queue, replace(record, **_review_mode(payload, has_reference=reference is not None))


def _review_mode(payload: dict, *, has_reference: bool) -> dict[str, bool]:
    """Return the item's ``is_pairwise`` and ``turn_selectable`` flags; raise RowError for an invalid pair."""
    flags = {}
    for key in ("is_pairwise", "turn_selectable"):
        value = payload.get(key, False)
        if not isinstance(value, bool):
            raise RowError(key, f"expected true or false, got {json_type(value)}")
        flags[key] = value
    if flags["is_pairwise"] and not has_reference:
        raise RowError("reference_response", "missing; a pairwise item needs it as its second candidate (B)")
    if flags["is_pairwise"] and flags["turn_selectable"]:
        raise RowError("turn_selectable", "a pairwise item compares two replies, so it cannot also select a turn")
    return flags
