"""Anthropic hh-rlhf pairs: ``{"chosen": transcript, "rejected": transcript}``.

A transcript is ``"\\n\\nHuman: …\\n\\nAssistant: …"``, split on those two
markers. The final assistant turn of ``rejected`` is the reply under review,
the turns before it are the conversation, and the final turn of ``chosen`` is
the reference reply. Edge cases, each recorded under ``metadata["hh_rlhf"]``:

- ``prefix_differs``: the turns before the final reply differ between the
  two transcripts (9 of the 2,354 helpful-base test rows, mostly where a
  turn marker is missing its blank line). The reference is then left empty,
  because the chosen reply belongs to a different conversation, so a
  preference pair built from it would be wrong. The whole chosen transcript is kept as
  ``chosen_transcript`` instead, so nothing is lost.
- ``identical_pair``: chosen and rejected are the same text (2 rows). The
  item is imported, but the pair carries no preference.
- ``empty_response``: the rejected reply is empty (4 rows). The dataset
  recorded an empty model output, which is a real reply to judge, so it is
  imported although other formats reject an empty reply.
"""

import re

from ..errors import RowError, json_type
from ..records import FormatParts

NAME = "hh-rlhf"
SIGNATURE = ("chosen", "rejected")
USED_KEYS = ("chosen", "rejected")
EXTRA_KEYS: tuple[str, ...] = ()

TURN_MARKER = re.compile(r"\n\n(Human|Assistant): ?")
ROLES = {"Human": "user", "Assistant": "assistant"}


def transcript_parse(text: object, *, field: str) -> list[dict]:
    """Split a transcript into user and assistant messages; raise RowError unless it ends with the assistant."""
    if not isinstance(text, str):
        raise RowError(field, f"expected a transcript string, got {json_type(text)}")
    pieces = TURN_MARKER.split(text)
    messages = [
        {"role": ROLES[speaker], "content": content}
        for speaker, content in zip(pieces[1::2], pieces[2::2], strict=True)
    ]
    if pieces[0] or not messages or messages[0]["role"] != "user":
        raise RowError(field, "the transcript must start with a '\\n\\nHuman: ' turn")
    if messages[-1]["role"] != "assistant":
        raise RowError(field, "the transcript must end with an '\\n\\nAssistant: ' turn, the reply to review")
    for number, message in enumerate(messages, start=1):
        if message["role"] == "user" and not message["content"].strip():
            raise RowError(field, f"turn {number} (Human) is empty text; every Human turn needs text")
    return messages


def parts_from_row(row: dict) -> FormatParts:
    rejected = transcript_parse(row.get("rejected"), field="rejected")
    chosen = transcript_parse(row.get("chosen"), field="chosen")
    conversation, reply = rejected[:-1], rejected[-1]
    reference: dict | None = chosen[-1]

    flags: dict = {}
    if chosen[:-1] != conversation:
        flags["prefix_differs"] = True
        flags["chosen_transcript"] = row["chosen"]
        reference = None
    if row["chosen"] == row["rejected"]:
        flags["identical_pair"] = True
    if not reply["content"].strip():
        flags["empty_response"] = True

    return FormatParts(
        conversation=conversation,
        response=reply,
        reference_response=reference,
        metadata={"hh_rlhf": flags} if flags else {},
    )
