"""Validated item records, their content hash, and the optional keys every format shares."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reviews.models import ReviewItem

from .errors import RowError, field_join, json_type

OPTIONAL_KEYS = ("external_id", "source", "model", "metadata", "tools")


@dataclass(frozen=True)
class ItemRecord:
    """One validated review item, ready for ``items_ingest``; build it with ``record_build``.

    ``label`` names where the record came from (``line 3``, ``items[2]``) so
    that errors found while saving point back to the input.
    """

    source: str
    external_id: str
    conversation: list[dict]
    response: dict
    reference_response: dict | None
    tools: list[dict] | None
    model: str
    metadata: dict
    content_hash: str
    label: str = ""
    is_pairwise: bool = False
    turn_selectable: bool = False


@dataclass(frozen=True)
class RowDefaults:
    """Values for rows that name none: ``source`` (None means the format's name) and ``model``."""

    source: str | None = None
    model: str = ""


def content_hash_compute(conversation: list[dict], response: dict) -> str:
    """Return the hex SHA-256 of the canonical JSON of the conversation and the reply.

    Canonical means sorted keys, no whitespace and UTF-8 text, so equal content
    always hashes equally whatever the key order of the input.
    """
    canonical = json.dumps(
        {"conversation": conversation, "response": response},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _max_length(name: str) -> int:
    return ReviewItem._meta.get_field(name).max_length


def _short_text(value: Any, *, field_name: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and field_name == "external_id":
        value = str(value)
    if not isinstance(value, str):
        raise RowError(field_name, f"expected a string, got {json_type(value)}")
    if required and not value.strip():
        raise RowError(field_name, "empty text; give a value or leave the key out")
    limit = _max_length(field_name)
    if len(value) > limit:
        raise RowError(field_name, f"{len(value)} characters, more than the maximum of {limit}; shorten it")
    return value


def _tools_clean(tools: Any) -> list[dict] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise RowError("tools", f"expected an array of tool definitions, got {json_type(tools)}")
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise RowError(field_join("tools", index), f"expected a tool definition object, got {json_type(tool)}")
    return tools


def record_build(
    *,
    conversation: list[dict],
    response: dict,
    source: str,
    reference_response: dict | None = None,
    tools: Any = None,
    model: Any = None,
    metadata: Any = None,
    external_id: Any = None,
    label: str = "",
) -> ItemRecord:
    """Check the item's own fields and return the record, with the content hash as its default id.

    ``conversation``, ``response`` and ``reference_response`` must already have
    passed the checks in ``messages``. An integer ``external_id`` becomes a string.
    """
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise RowError("metadata", f"expected an object, got {json_type(metadata)}")
    digest = content_hash_compute(conversation, response)
    external_id = digest if external_id is None else _short_text(external_id, field_name="external_id", required=True)
    return ItemRecord(
        source=_short_text(source, field_name="source", required=True),
        external_id=external_id,
        conversation=conversation,
        response=response,
        reference_response=reference_response,
        tools=_tools_clean(tools),
        model=_short_text(model, field_name="model", required=False),
        metadata=metadata,
        content_hash=digest,
        label=label,
    )


@dataclass
class FormatParts:
    """Messages, default id, model and metadata that a format builds from one row."""

    conversation: list[dict]
    response: dict
    reference_response: dict | None = None
    model: str = ""
    external_id: str | None = None
    metadata: dict = field(default_factory=dict)


def row_record(
    row: dict, parts: FormatParts, *, format_name: str, used: Iterable[str], defaults: RowDefaults
) -> ItemRecord:
    """Build the record of one file row from what its format made and the row's optional keys.

    The row's own ``source``, ``model`` and ``external_id`` win over the
    format's and the command's defaults. The format's extra keys, which it
    does not read, are kept in metadata, so an import never drops data
    silently. ``row`` must contain no key that the format does not allow.
    """
    metadata = row.get("metadata", {})
    if not isinstance(metadata, dict):
        raise RowError("metadata", f"expected an object, got {json_type(metadata)}")
    metadata = dict(metadata)
    skipped = set(used) | set(OPTIONAL_KEYS)
    for key, value in row.items():
        if key not in skipped:
            _metadata_add(metadata, key, value, reason="also given as a key of the row; keep only one of them")
    for key, value in parts.metadata.items():
        reason = f"reserved for data that the {format_name} format stores; rename the key"
        _metadata_add(metadata, key, value, reason=reason)

    return record_build(
        conversation=parts.conversation,
        response=parts.response,
        reference_response=parts.reference_response,
        tools=row.get("tools"),
        model=row.get("model") or parts.model or defaults.model,
        metadata=metadata,
        source=row.get("source") or defaults.source or format_name,
        external_id=row.get("external_id", parts.external_id),
    )


def _metadata_add(metadata: dict, key: str, value: Any, *, reason: str) -> None:
    if key in metadata:
        raise RowError(field_join("metadata", key), reason)
    metadata[key] = value
