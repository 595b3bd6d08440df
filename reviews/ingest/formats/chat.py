"""``{"messages": [...]}``: the last assistant message is the reply under review.

``parallel_tool_calls``, which OpenAI's chat fine-tuning rows may carry
(``exports.validation.OPENAI_REQUEST_KEYS``), stays in metadata.
"""

from ..errors import RowError
from ..messages import messages_validate, split_at_last_reply
from ..records import FormatParts

NAME = "chat"
SIGNATURE = ("messages",)
USED_KEYS = ("messages",)
EXTRA_KEYS = ("parallel_tool_calls",)


def parts_from_row(row: dict) -> FormatParts:
    """Split the messages at the last assistant message.

    Messages after that reply (a closing user turn, a tool result) are kept in
    metadata as ``messages_after_response``.
    """
    if "messages" not in row:
        raise RowError("messages", "missing; give the conversation as an array of messages")
    return parts_from_messages(row["messages"], field="messages")


def parts_from_messages(messages: object, *, field: str) -> FormatParts:
    messages_validate(messages, field=field)
    conversation, reply, after = split_at_last_reply(messages, field=field)
    metadata = {"messages_after_response": after} if after else {}
    return FormatParts(conversation=conversation, response=reply, metadata=metadata)
