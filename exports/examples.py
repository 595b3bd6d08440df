"""The canonical reviewed example that every export format is written from.

An example contains the conversation before the reviewed reply (``context``),
the reply itself (``original``), the human rewrite (``gold``, for needs_fix
verdicts) and the tools offered to the model. Messages are checked and
normalised once here, so each format writer only rearranges them:

- roles are system, user, assistant or tool (``developer`` becomes system);
- text-only content, as a string (lists of text parts are joined);
- ``tool_calls[].function.arguments`` is a JSON string, the OpenAI encoding;
- every tool message answers an earlier tool call by ``tool_call_id``;
- the context ends with a user or tool turn, the reply is an assistant turn.
"""

import copy
import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from reviews.models import Review, ReviewItem

from .records import ExportRecord, record_from_item

ROLES = ("system", "user", "assistant", "tool")
ROLE_ALIASES = {"developer": "system"}
PROMPT_END_ROLES = ("user", "tool")


class InvalidExample(ValueError):
    """A reviewed item whose messages no training format can carry; the export skips it."""


@dataclass(frozen=True)
class ReviewedExample:
    """One reviewed reply with its final verdict, ready for the format writers."""

    example_id: str
    item_id: int
    verdict: str
    context: list[dict[str, Any]]
    original: dict[str, Any]
    gold: dict[str, Any] | None
    tools: list[dict[str, Any]] | None
    provenance: dict[str, Any] = field(default_factory=dict)
    # Role and content of every message up to the first user turn, before any redaction.
    opening: tuple[tuple[str, str | None], ...] = ()
    # The candidate that the reviewer did not prefer, for pairwise items only.
    other: dict[str, Any] | None = None

    @functools.cached_property
    def conversation_key(self) -> str:
        """SHA-256 of the conversation's opening, hashed on first use because only a validation split reads it.

        Items that continue one conversation share it, so the train/validation split keeps them together.
        """
        return hashlib.sha256(json.dumps(self.opening).encode("ascii")).hexdigest()

    @property
    def sft_target(self) -> dict[str, Any] | None:
        """Return the reply to train on: the original if approved, the rewrite if fixed, else None."""
        if self.verdict == Review.Verdict.APPROVED:
            return self.original
        if self.verdict == Review.Verdict.NEEDS_FIX:
            return self.gold
        return None

    @property
    def preference_pair(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Return ``(chosen, rejected)``, or None when the example gives no pair or its two replies are equal.

        A single reply gives a pair for needs_fix only: the rewrite over the
        original. A pairwise item gives one for approved (the preferred
        candidate over the other) and needs_fix (the rewrite of the
        preferred candidate over the other), never for rejected.
        """
        pair = self._candidate_pair
        if pair is None or self.pair_is_identical:
            return None
        return pair

    @property
    def _candidate_pair(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if self.other is not None:
            if self.verdict == Review.Verdict.REJECTED:
                return None
            return (self.gold if self.verdict == Review.Verdict.NEEDS_FIX else self.original), self.other
        if self.verdict != Review.Verdict.NEEDS_FIX:
            return None
        return self.gold, self.original

    @functools.cached_property
    def conversions(self) -> dict[Any, Any]:
        """Messages of this example that ``exports.messages`` converted for the writers, by dialect."""
        return {}

    @functools.cached_property
    def pair_is_identical(self) -> bool:
        """Tell whether the pair's two replies are equal once runs of whitespace are collapsed."""
        pair = self._candidate_pair
        if pair is None or any(reply.get("tool_calls") for reply in pair):
            return False
        chosen, rejected = pair
        return _collapse_whitespace(chosen["content"] or "") == _collapse_whitespace(rejected["content"] or "")

    @functools.cached_property
    def trivial_edit(self) -> bool:
        """Tell whether the rewrite changes only whitespace or punctuation, but not only whitespace."""
        if self.verdict != Review.Verdict.NEEDS_FIX or self.original.get("tool_calls"):
            return False
        rewrite, original = self.gold["content"], self.original["content"] or ""
        if _collapse_whitespace(rewrite) == _collapse_whitespace(original):
            return False
        # Word characters are a subset of what _letters_and_digits keeps, so texts whose word characters
        # differ cannot be a trivial edit. Only the rare remaining pairs pay for the per-character comparison.
        # Texts whose ASCII word characters already differ skip the regular expression too.
        if _ascii_word_characters(rewrite) != _ascii_word_characters(original):
            return False
        if _word_characters(rewrite) != _word_characters(original):
            return False
        return _letters_and_digits(rewrite) == _letters_and_digits(original)


def _collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


NON_WORD = re.compile(r"[\W_]+")
# The ASCII characters that NON_WORD matches: everything but A-Z, a-z and 0-9.
ASCII_NON_WORD = bytes(code for code in range(128) if not chr(code).isalnum())


def _word_characters(text: str) -> str:
    return NON_WORD.sub("", text)


def _ascii_word_characters(text: str) -> bytes:
    """Return the ASCII characters of ``_word_characters(text)``, in order, at a fraction of its cost."""
    return text.encode("ascii", "ignore").translate(None, ASCII_NON_WORD)


def _letters_and_digits(text: str) -> str:
    return "".join(
        character for character in text
        if not character.isspace() and not unicodedata.category(character).startswith("P")
    )


def _opening(context: list[dict[str, Any]]) -> tuple[tuple[str, str | None], ...]:
    opening = []
    for message in context:
        opening.append((message["role"], message["content"]))
        if message["role"] == "user":
            break
    return tuple(opening)


def example_from_item(item: ReviewItem) -> ReviewedExample:
    """Build the example of ``item`` from its final review; see ``example_from_record``."""
    if item.final_review is None:
        raise InvalidExample(f"item {item.pk} has no final review")
    return example_from_record(record_from_item(item))


def example_from_record(record: ExportRecord) -> ReviewedExample:
    """Build the example of one selected item and its final review.

    With a ``turn_index``, the prompt is every message of the transcript
    (conversation, then response) before that turn and the reply is the
    turn. For a pairwise item, the original is the preferred candidate and
    ``other`` the second one. Raises InvalidExample, naming the message and
    the problem, when the messages break one of the rules in this module's
    docstring.
    """
    prompt, reply = _prompt_and_reply(record)
    context, call_ids = _conversation_clean(prompt)
    original = _response_clean(reply, known_call_ids=call_ids)
    other = None
    if record.is_pairwise:
        other = _response_clean(_other_candidate(record), known_call_ids=call_ids)
    gold = None
    if record.verdict == Review.Verdict.NEEDS_FIX:
        gold = {"role": "assistant", "content": record.corrected_response.strip()}

    return ReviewedExample(
        example_id=f"item-{record.item_id}",
        item_id=record.item_id,
        verdict=record.verdict,
        context=context,
        original=original,
        gold=gold,
        tools=_tools_clean(record.tools),
        provenance=_provenance(record),
        opening=_opening(context),
        other=other,
    )


def _prompt_and_reply(record: ExportRecord) -> tuple[Any, Any]:
    if record.is_pairwise:
        if record.preferred not in Review.Preference.values:
            raise InvalidExample(f"pairwise item {record.item_id} has no preferred candidate in its final review")
        if record.preferred == Review.Preference.B:
            return record.conversation, record.reference_response
        return record.conversation, record.response
    if record.turn_index is None:
        return record.conversation, record.response
    transcript = [*(record.conversation or []), record.response]
    if not 0 < record.turn_index < len(transcript):
        raise InvalidExample(
            f"turn_index {record.turn_index} of item {record.item_id} is outside its {len(transcript)} messages"
        )
    return transcript[: record.turn_index], transcript[record.turn_index]


def _other_candidate(record: ExportRecord) -> Any:
    return record.response if record.preferred == Review.Preference.B else record.reference_response


def _provenance(record: ExportRecord) -> dict[str, Any]:
    return {
        "item_id": record.item_id,
        "source": record.source,
        "external_id": record.external_id,
        "queue": record.queue_slug,
        "rubric_slug": record.rubric_slug,
        "rubric_version": record.rubric_version,
        "reviewer_id": record.reviewer_id,
        "reviewed_at": record.submitted_at.isoformat(),
        "verdict": record.verdict,
        "model": record.model,
    }


def _conversation_clean(conversation: Any) -> tuple[list[dict[str, Any]], set[str]]:
    """Return the cleaned messages and the ids of the tool calls that they make."""
    if not isinstance(conversation, list) or not conversation:
        raise InvalidExample("the conversation before the reply is empty; a prompt needs at least one user turn")

    messages: list[dict[str, Any]] = []
    # One running set of call ids, so long tool-using conversations stay linear.
    known_call_ids: set[str] = set()
    for position, message in enumerate(conversation):
        cleaned = _message_clean(message, position=position, known_call_ids=known_call_ids)
        messages.append(cleaned)
        if "tool_calls" in cleaned:
            known_call_ids.update(call["id"] for call in cleaned["tool_calls"])

    if messages[-1]["role"] not in PROMPT_END_ROLES:
        raise InvalidExample(
            f"the conversation's last turn has role {messages[-1]['role']!r}; the reply must follow a user or tool turn"
        )
    return messages, known_call_ids


def _response_clean(response: Any, *, known_call_ids: set[str]) -> dict[str, Any]:
    if isinstance(response, dict) and "role" not in response:
        response = {**response, "role": "assistant"}
    message = _message_clean(response, position="response", known_call_ids=known_call_ids)
    if message["role"] != "assistant":
        raise InvalidExample(f"the reviewed reply has role {message['role']!r}; it must be an assistant turn")
    return message


def _message_clean(message: Any, *, position: int | str, known_call_ids: set[str]) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise InvalidExample(f"message {position} is a {type(message).__name__}, not an object")
    role = ROLE_ALIASES.get(message.get("role"), message.get("role"))
    if role not in ROLES:
        raise InvalidExample(f"message {position} has role {role!r}; expected one of {', '.join(ROLES)}")

    clean: dict[str, Any] = {"role": role, "content": _content_text(message.get("content"), position=position)}
    if role != "assistant" and clean["content"] is None:
        raise InvalidExample(f"{role} message {position} has no content")
    if role == "assistant" and message.get("tool_calls"):
        if not isinstance(message["tool_calls"], list):
            raise InvalidExample(f"assistant message {position} has tool_calls that are not a list")
        clean["tool_calls"] = [
            _tool_call_clean(call, position=position, index=index) for index, call in enumerate(message["tool_calls"])
        ]
    if role == "assistant" and not clean["content"] and "tool_calls" not in clean:
        raise InvalidExample(f"assistant message {position} has neither content nor tool calls")
    if role == "tool":
        clean.update(_tool_reply_fields(message, position=position, known_call_ids=known_call_ids))
    return clean


def _content_text(content: Any, *, position: int | str) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and part.get("type") == "text" for part in content):
        return "".join(str(part.get("text", "")) for part in content)
    raise InvalidExample(f"message {position} has non-text content; only text is exported")


def _tool_call_clean(call: Any, *, position: int | str, index: int) -> dict[str, Any]:
    where = f"tool call {index} of message {position}"
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        raise InvalidExample(f"{where} has no function object")
    if not call.get("id"):
        raise InvalidExample(f"{where} has no id; tool replies link to calls by id")
    function = call["function"]
    if not function.get("name"):
        raise InvalidExample(f"{where} has no function name")

    arguments = function.get("arguments", "{}")
    if isinstance(arguments, str):
        try:
            json.loads(arguments)
        except json.JSONDecodeError as error:
            raise InvalidExample(f"{where} has arguments that are not valid JSON ({error.msg})") from error
    else:
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {"id": str(call["id"]), "type": "function", "function": {"name": function["name"], "arguments": arguments}}


def _tool_reply_fields(message: dict[str, Any], *, position: int | str, known_call_ids: set[str]) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not call_id or call_id not in known_call_ids:
        raise InvalidExample(
            f"tool message {position} has tool_call_id {call_id!r}, which matches no earlier tool call"
        )
    fields: dict[str, Any] = {"tool_call_id": str(call_id)}
    if message.get("name"):
        fields["name"] = str(message["name"])
    return fields


def _tools_clean(tools: Any) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        raise InvalidExample("the item's tools are not a list of tool schema objects")
    return copy.deepcopy(tools)
