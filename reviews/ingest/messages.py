"""Validation of OpenAI-style chat messages, shared by every import format and the API.

Allowed roles are system, user, assistant and tool. An assistant tool call has
the chat-completions shape ``{"id", "type": "function", "function": {"name",
"arguments"}}``. ``arguments`` must be a string, and it is stored as given
without parsing, so a malformed argument string that a model produced stays
reviewable. A tool message must carry the id of a tool call made earlier in
the same conversation. Ids may repeat, as they do in real agent logs.
"""

from typing import Any

from .errors import RowError, field_join, json_type

ROLES = ("system", "user", "assistant", "tool")
ROLE_HINT = "use system, user, assistant or tool"


def text_check(value: Any, *, field: str) -> None:
    """Raise RowError at the first string or object key holding a NUL character or a lone surrogate.

    PostgreSQL cannot store either of them in text or JSON columns, so such a
    row would fail at insert time with a less helpful error.
    """
    if isinstance(value, str):
        _string_check(value, field=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            _string_check(key, field=field_join(field, key))
            text_check(item, field=field_join(field, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            text_check(item, field=field_join(field, index))


def _string_check(value: str, *, field: str) -> None:
    position = value.find("\x00")
    if position >= 0:
        raise RowError(field, f"NUL character (U+0000) at position {position}; remove it from the text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        code_point = ord(value[error.start])
        raise RowError(
            field,
            f"lone surrogate U+{code_point:04X} at position {error.start} is not valid Unicode; "
            "fix the text encoding where the data was produced",
        ) from None


def messages_validate(messages: Any, *, field: str, allow_empty_assistant: bool = False) -> list[dict]:
    """Raise RowError unless ``messages`` is a valid list of chat messages, and return it unchanged.

    ``allow_empty_assistant`` accepts assistant turns with neither text nor
    tool calls, for datasets that recorded an empty model output.
    """
    if not isinstance(messages, list):
        raise RowError(field, f"expected an array of messages, got {json_type(messages)}")
    call_ids: set[str] = set()
    for index, message in enumerate(messages):
        message_validate(
            message, field=field_join(field, index), call_ids=call_ids, allow_empty_assistant=allow_empty_assistant
        )
    return messages


def message_validate(message: Any, *, field: str, call_ids: set[str], allow_empty_assistant: bool = False) -> None:
    """Raise RowError unless ``message`` is valid; add the ids of its tool calls to ``call_ids``."""
    if not isinstance(message, dict):
        raise RowError(field, f"expected a message object, got {json_type(message)}")
    role = message.get("role")
    if role is None:
        raise RowError(f"{field}.role", f"missing; {ROLE_HINT}")
    if role not in ROLES:
        raise RowError(f"{field}.role", f"unknown role {role!r}; {ROLE_HINT}")
    if "name" in message and not isinstance(message["name"], str):
        raise RowError(f"{field}.name", f"expected a string, got {json_type(message['name'])}")

    if role == "assistant":
        call_ids.update(_assistant_validate(message, field=field, allow_empty=allow_empty_assistant))
        return
    for key in ("tool_calls", "tool_call_id"):
        if message.get(key) is not None and not (key == "tool_call_id" and role == "tool"):
            raise RowError(
                f"{field}.{key}", f"not allowed on a {role} message; only assistant messages make tool calls"
            )
    if role == "tool":
        _tool_validate(message, field=field, call_ids=call_ids)
        return
    content = _content(message, field=field)
    if not (content or "").strip():
        raise RowError(f"{field}.content", "empty text; give the message text or remove the message")


def _content(message: dict, *, field: str) -> str | None:
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise RowError(f"{field}.content", f"expected a string, got {json_type(content)}")
    return content


def _assistant_validate(message: dict, *, field: str, allow_empty: bool) -> list[str]:
    if message.get("tool_call_id") is not None:
        raise RowError(f"{field}.tool_call_id", "not allowed on an assistant message; only tool messages carry it")
    content = _content(message, field=field)
    tool_calls = message.get("tool_calls")
    ids = _tool_calls_validate(tool_calls, field=f"{field}.tool_calls") if tool_calls is not None else []
    if not ids and not (content or "").strip() and not allow_empty:
        raise RowError(f"{field}.content", "empty text; an assistant message needs content or tool_calls")
    return ids


def _tool_calls_validate(tool_calls: Any, *, field: str) -> list[str]:
    if not isinstance(tool_calls, list):
        raise RowError(field, f"expected an array of tool calls, got {json_type(tool_calls)}")
    ids = []
    for index, call in enumerate(tool_calls):
        path = field_join(field, index)
        if not isinstance(call, dict):
            raise RowError(path, f"expected a tool call object, got {json_type(call)}")
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            raise RowError(f"{path}.id", "missing; each tool call needs the id that its tool message refers to")
        if call.get("type", "function") != "function":
            raise RowError(f"{path}.type", f"unsupported type {call['type']!r}; use 'function'")
        _function_validate(call.get("function"), field=f"{path}.function")
        ids.append(call_id)
    return ids


def _function_validate(function: Any, *, field: str) -> None:
    if not isinstance(function, dict):
        raise RowError(field, f"expected an object with name and arguments, got {json_type(function)}")
    name = function.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RowError(f"{field}.name", "missing; give the name of the called function")
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        raise RowError(
            f"{field}.arguments",
            f"expected a JSON-encoded string, got {json_type(arguments)}; encode the arguments with json.dumps",
        )


def _tool_validate(message: dict, *, field: str, call_ids: set[str]) -> None:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise RowError(
            f"{field}.tool_call_id", "missing; give the id of the assistant tool call that this message responds to"
        )
    if call_id not in call_ids:
        raise RowError(
            f"{field}.tool_call_id",
            f"{call_id!r} matches no earlier tool_calls[].id; "
            "a tool message must respond to a tool call made before it",
        )
    if not isinstance(message.get("content"), str):
        # An empty string is a valid tool result: tools such as "think" return nothing.
        content_type = json_type(message.get("content"))
        raise RowError(f"{field}.content", f"expected the tool result as a string, got {content_type}")


def assistant_message(value: Any, *, field: str, allow_empty: bool = False) -> dict:
    """Validate a reply given as a string or an assistant message and return it as a message dict.

    The result has only ``role``, ``content`` (a string, empty when the reply
    is only tool calls) and, when present, ``tool_calls``. Other keys of a
    given message are dropped.
    """
    if isinstance(value, str):
        if not value.strip() and not allow_empty:
            raise RowError(field, "empty text; give the reply to review")
        return {"role": "assistant", "content": value}
    if not isinstance(value, dict):
        raise RowError(field, f"expected a string or an assistant message object, got {json_type(value)}")
    role = value.get("role", "assistant")
    if role != "assistant":
        raise RowError(
            f"{field}.role", f"expected 'assistant', got {role!r}; the reply under review is an assistant message"
        )

    message_validate({**value, "role": "assistant"}, field=field, call_ids=set(), allow_empty_assistant=allow_empty)
    reply = {"role": "assistant", "content": value.get("content") or ""}
    if value.get("tool_calls"):
        reply["tool_calls"] = value["tool_calls"]
    return reply


def split_at_last_reply(messages: list[dict], *, field: str) -> tuple[list[dict], dict, list[dict]]:
    """Split validated ``messages`` into the conversation, the last assistant reply and the messages after it."""
    index = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "assistant"), None)
    if index is None:
        raise RowError(field, "no assistant message to review; the last assistant message is the reply under review")
    if index == 0:
        raise RowError(field, "no message before the assistant reply; give at least the user message before it")
    reply = assistant_message(messages[index], field=field_join(field, index))
    return messages[:index], reply, messages[index + 1:]
