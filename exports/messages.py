"""Canonical messages (see ``exports.examples``) in the two message dialects the writers emit.

TRL messages always carry a string ``content`` (empty beside tool calls),
keep a tool message's ``name`` and give tool-call arguments as objects or as
JSON strings, as the request chose. OpenAI messages leave ``content`` out of
an assistant turn that only calls tools, keep arguments as JSON strings and
carry no key outside the OpenAI chat format.

The ``*_shared`` functions convert each message of an example once and give
every file of the example the same converted objects, so no writer may
change what they return. The validator then checks a shared message once.
"""

import json
from collections.abc import Callable, Hashable
from typing import Any

from .examples import ReviewedExample

Message = dict[str, Any]


def trl_context_shared(example: ReviewedExample, *, tool_arguments: str) -> list[Message]:
    """Return ``example.context`` as TRL messages, the same list for every caller."""
    return _shared(example, ("trl", tool_arguments, "context"),
                   lambda: [trl_message(message, tool_arguments=tool_arguments) for message in example.context])


def trl_shared(example: ReviewedExample, message: Message, *, tool_arguments: str) -> Message:
    """Return ``message``, one of ``example``'s, as a TRL message, the same object for every caller."""
    # The example references ``message``, so its id stays unique while the example exists.
    return _shared(example, ("trl", tool_arguments, id(message)),
                   lambda: trl_message(message, tool_arguments=tool_arguments))


def trl_tools_shared(example: ReviewedExample) -> dict[str, str]:
    """Return ``example``'s ``tools`` column (see ``trl_tools``), encoded once per example."""
    return _shared(example, ("trl", "tools"), lambda: trl_tools(example.tools))


def openai_context_shared(example: ReviewedExample) -> list[Message]:
    """Return ``example.context`` as OpenAI messages, the same list for every caller."""
    return _shared(example, ("openai", "context"),
                   lambda: [openai_message(message) for message in example.context])


def openai_shared(example: ReviewedExample, message: Message) -> Message:
    """Return ``message``, one of ``example``'s, as an OpenAI message, the same object for every caller."""
    return _shared(example, ("openai", id(message)), lambda: openai_message(message))


def _shared(example: ReviewedExample, key: Hashable, convert: Callable[[], Any]) -> Any:
    conversions = example.conversions
    if key not in conversions:
        conversions[key] = convert()
    return conversions[key]


def trl_message(message: Message, *, tool_arguments: str) -> Message:
    converted: Message = {"role": message["role"], "content": message["content"] or ""}
    if "tool_calls" in message:
        converted["tool_calls"] = [_trl_call(call, tool_arguments=tool_arguments) for call in message["tool_calls"]]
    for key in ("tool_call_id", "name"):
        if key in message:
            converted[key] = message[key]
    return converted


def _trl_call(call: dict[str, Any], *, tool_arguments: str) -> dict[str, Any]:
    arguments = call["function"]["arguments"]
    if tool_arguments == "object":
        arguments = json.loads(arguments)
    function = {"name": call["function"]["name"], "arguments": arguments}
    return {"id": call["id"], "type": "function", "function": function}


def trl_tools(tools: list[dict[str, Any]] | None) -> dict[str, str]:
    """Return the ``tools`` column: a JSON string, which the SFT and DPO trainers of trl 1.16 parse."""
    return {"tools": json.dumps(tools, ensure_ascii=False)} if tools else {}


def openai_message(message: Message) -> Message:
    converted: Message = {"role": message["role"]}
    if message["content"] is not None or "tool_calls" not in message:
        converted["content"] = message["content"] or ""
    if "tool_calls" in message:
        converted["tool_calls"] = [
            {"id": call["id"], "type": "function", "function": dict(call["function"])} for call in message["tool_calls"]
        ]
    if "tool_call_id" in message:
        converted["tool_call_id"] = message["tool_call_id"]
    return converted
