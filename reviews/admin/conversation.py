"""Turn stored OpenAI-style messages into chat turns that templates render.

Everything here is plain text. Templates autoescape it, because every
message comes from an AI system or its users and is untrusted.
"""

import json
from typing import Any


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _arguments_text(arguments: Any) -> str:
    """Pretty-print a tool call's arguments, which OpenAI sends as a JSON string."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments
    return _pretty_json(arguments)


def _content_text(content: Any) -> str:
    """Return message content as text: a string as is, text parts joined, other parts as JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                parts.append(_pretty_json(part))
        return "\n\n".join(parts)
    return _pretty_json(content)


def _tool_call(call: Any) -> dict[str, str]:
    if not isinstance(call, dict):
        return {"id": "", "name": "", "arguments": _pretty_json(call)}
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    return {
        "id": str(call.get("id") or ""),
        "name": str(function.get("name") or ""),
        "arguments": _arguments_text(function.get("arguments", "")),
    }


def chat_turn(message: Any) -> dict[str, Any]:
    """Return one message as a turn: role, name, text, tool calls, and the id of the call whose result it carries."""
    if not isinstance(message, dict):
        return {"role": "unknown", "name": "", "text": _pretty_json(message), "tool_calls": [], "tool_call_id": ""}
    tool_calls = message.get("tool_calls") or []
    return {
        "role": str(message.get("role") or "unknown"),
        "name": str(message.get("name") or ""),
        "text": _content_text(message.get("content")),
        "tool_calls": [_tool_call(call) for call in tool_calls] if isinstance(tool_calls, list) else [],
        "tool_call_id": str(message.get("tool_call_id") or ""),
    }


def chat_turns(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        return [chat_turn(messages)]
    return [chat_turn(message) for message in messages]
