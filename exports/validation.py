"""Our own check of every exported row, for what the training tools let through.

trl 1.16 and together 2.14.0 accept several rows that train badly or that
other tools reject. Among them are identical chosen and rejected replies,
prompts that end with an assistant turn, empty assistant turns, tool
results that answer no call, arguments that are not JSON, and columns that
TRL reserves. A bundle
never contains a row for which ``row_problems`` or ``line_problems`` returns
anything; the build lists such rows, with these reasons, in the manifest.

The checks read a writer's ``RowLayout``, so they cover any writer. The
build checks its rows with a ``RowChecker``, which rejects the same rows
as ``row_problems`` but checks a message that several rows of one item
share only once.
"""

import json
import re
from collections.abc import Sequence
from typing import Any

import orjson

from .formats import RowLayout

ROLES = ("system", "user", "assistant", "tool")
PROMPT_END_ROLES = ("user", "tool")
TRL_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name"})
OPENAI_MESSAGE_KEYS = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "tool_calls", "name", "refusal", "weight"}),
    "tool": frozenset({"role", "content", "tool_call_id"}),
}
OPENAI_REQUEST_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
# Column names TRL reads itself (trl 1.16): ``labels`` and ``input_ids`` change how SFTTrainer
# prepares rows, ``label`` marks unpaired preference, and ``*_ids`` / ``*_mask`` are internal names.
RESERVED_COLUMNS = frozenset({"labels", "label", "input_ids"})
RESERVED_SUFFIXES = ("_ids", "_mask", "_masks")
# OpenAI's rule for function names; Together and Azure apply the same one.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def row_problems(row: Any, *, layout: RowLayout, tool_arguments: str) -> list[str]:
    """Return why ``row`` is not a valid row of a file with ``layout``; an empty list means valid."""
    return RowChecker(tool_arguments=tool_arguments).problems(row, layout=layout)


class RowChecker:
    """``row_problems`` for the rows of one bundle, checking a message that several rows share only once.

    Writers share converted messages between the rows of one item, such as
    the prompt of its SFT and DPO rows. A message that passed is remembered
    by identity until the next ``item_start``, so a caller builds every row
    of an item before checking any and changes no message until then. Tool
    messages are always checked again, because whether their
    ``tool_call_id`` matches a call depends on the messages before them.
    """

    def __init__(self, *, tool_arguments: str) -> None:
        self.tool_arguments = tool_arguments
        self.message_checkers: dict[tuple[str, bool], _MessageChecker] = {}
        # Tool lists that passed, by id and dialect, each kept beside its id like the messages.
        self.passed_tools: dict[tuple[int, str], Any] = {}

    def item_start(self) -> None:
        """Forget the messages and tools that passed, so that the next item's are checked again."""
        for checker in self.message_checkers.values():
            checker.passed.clear()
        self.passed_tools.clear()

    def problems(self, row: Any, *, layout: RowLayout) -> list[str]:
        """Return why ``row`` is not a valid row of a file with ``layout``; an empty list means valid."""
        if not isinstance(row, dict):
            return [f"the row is a {type(row).__name__}, not an object"]
        problems = _column_problems(row, layout)
        if problems:
            return problems

        checker = self._message_checker(layout)
        messages = _at(row, layout.messages)
        # The ids of the calls that the messages make, to which a reply's tool message may refer.
        call_ids: set[str] = set()
        problems += checker.conversation(messages, where=layout.messages, known_ids=call_ids)
        if layout.replies:
            problems += self._replies_problems(row, messages, layout=layout, checker=checker, prompt_ids=call_ids)
        else:
            problems += _whole_conversation_problems(messages, layout)
        if layout.label and not isinstance(row[layout.label], bool):
            problems.append(f"{layout.label} is {row[layout.label]!r}, not true or false")
        problems += self._tools_problems(_at(row, layout.tools), layout)
        return problems

    def _tools_problems(self, tools: Any, layout: RowLayout) -> list[str]:
        # The writers give every row of an item the same tools object, so one check covers them all.
        key = (id(tools), layout.dialect)
        if key in self.passed_tools:
            return []
        problems = _tools_problems(tools, layout)
        if not problems:
            self.passed_tools[key] = tools
        return problems

    def _message_checker(self, layout: RowLayout) -> "_MessageChecker":
        # The message rules depend on the dialect and on weights only, so files that agree on both share a checker.
        key = (layout.dialect, layout.weighted)
        if key not in self.message_checkers:
            self.message_checkers[key] = _MessageChecker(layout=layout, tool_arguments=self.tool_arguments)
        return self.message_checkers[key]

    def _replies_problems(self, row: dict[str, Any], prompt: Any, *, layout: RowLayout,
                          checker: "_MessageChecker", prompt_ids: set[str]) -> list[str]:
        problems = _prompt_problems(prompt, layout)
        replies = [_at(row, path) for path in layout.replies]
        for path, reply in zip(layout.replies, replies):
            problems += checker.reply(reply, where=path, known_ids=prompt_ids)
        if layout.pair and not problems and _normalised(replies[0][0]) == _normalised(replies[1][0]):
            problems.append(f"{layout.replies[0]} and {layout.replies[1]} are identical once whitespace is collapsed")
        return problems


def line_problems(line: str | bytes) -> list[str]:
    """Return why the encoded ``line`` is not one UTF-8 JSON object on one line; empty means valid.

    ``line`` is the text of a line, or the bytes that a bundle writes.
    """
    problems = []
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            return [f"the row is not valid UTF-8: {error.reason} at byte {error.start}"]
    else:
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as error:
            problems.append(f"the row is not valid UTF-8: {error.reason} at character {error.start}")
    if line.startswith("\ufeff"):
        problems.append("the row starts with a byte order mark")
    if any(separator in line for separator in LINE_BREAKS):
        problems.append("the row spans more than one line")
    return problems


def _at(row: dict[str, Any], path: str) -> Any:
    if "." not in path:
        return row.get(path)
    value: Any = row
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _column_problems(row: dict[str, Any], layout: RowLayout) -> list[str]:
    missing = sorted(layout.columns - set(row))
    if missing:
        return [f"column {missing[0]!r} is missing"]
    if layout.dialect == "openai":
        return _openai_key_problems(row, layout)

    problems = []
    for column in sorted(set(row) - layout.columns - {layout.tools}):
        if not column.startswith("meta_"):
            problems.append(f"column {column!r} is not part of the format; prefix metadata columns with meta_")
    for column in sorted(row):
        reserved = column in RESERVED_COLUMNS and column != layout.label
        if reserved or column.endswith(RESERVED_SUFFIXES):
            problems.append(f"column {column!r} is a name TRL reserves; rename it")
    return problems


def _openai_key_problems(row: dict[str, Any], layout: RowLayout) -> list[str]:
    allowed = set(layout.columns)
    if "." not in layout.messages:
        allowed |= OPENAI_REQUEST_KEYS
    problems = [f"key {key!r} is not part of the format" for key in sorted(set(row) - allowed)]
    if "." in layout.messages:
        request = _at(row, layout.messages.rsplit(".", 1)[0])
        if not isinstance(request, dict):
            return [*problems, f"{layout.messages.rsplit('.', 1)[0]} is not an object"]
        problems += [f"key {key!r} is not part of the format" for key in sorted(set(request) - OPENAI_REQUEST_KEYS)]
    return problems


def _prompt_problems(messages: Any, layout: RowLayout) -> list[str]:
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return []
    role = messages[-1].get("role")
    if role not in PROMPT_END_ROLES:
        return [f"{layout.messages} ends with role {role!r}; a prompt must end with a user or tool turn"]
    return []


def _whole_conversation_problems(messages: Any, layout: RowLayout) -> list[str]:
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return []
    last = messages[-1]
    if last.get("role") != "assistant":
        return [f"{layout.messages} ends with role {last.get('role')!r}, not with the reviewed assistant reply"]
    if layout.weighted and last.get("weight") != 1:
        return [f"the reviewed reply, the last of {layout.messages}, has weight {last.get('weight')!r}, not 1"]
    return []


def _normalised(message: dict[str, Any]) -> bytes:
    content = " ".join((message.get("content") or "").split())
    return orjson.dumps({**message, "content": content}, option=orjson.OPT_SORT_KEYS)


def _tools_problems(tools: Any, layout: RowLayout) -> list[str]:
    if tools is None:
        return []
    if layout.dialect == "trl":
        if not isinstance(tools, str):
            return [f"{layout.tools} must be a JSON string in TRL files, not a {type(tools).__name__}"]
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as error:
            return [f"{layout.tools} is not valid JSON ({error.msg})"]
    if not isinstance(tools, list) or not tools:
        return [f"{layout.tools} must be a non-empty list of tool schemas"]
    problems = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or (layout.dialect == "openai" and not TOOL_NAME.match(name)):
            problems.append(f"tool {index} of {layout.tools} has name {name!r}; use 1 to 64 of A-Z a-z 0-9 _ -")
    return problems


class _MessageChecker:
    """Checks of message lists, with the key rules of one dialect and one argument encoding.

    A message's place in the row is passed as a ``(position, list name)``
    pair and written out only when the message has a problem, because
    almost every exported message has none.
    """

    def __init__(self, *, layout: RowLayout, tool_arguments: str) -> None:
        self.layout = layout
        self.tool_arguments = tool_arguments
        self.allowed_keys = {role: self._keys_allowed(role) for role in ROLES}
        # Messages that passed, by id: each with the call ids that it adds to the messages after it.
        self.passed: dict[int, tuple[dict[str, Any], Sequence[str]]] = {}

    def _keys_allowed(self, role: str) -> frozenset[str]:
        allowed = TRL_MESSAGE_KEYS if self.layout.dialect == "trl" else OPENAI_MESSAGE_KEYS[role]
        return allowed if self.layout.weighted else allowed - {"weight"}

    def conversation(self, messages: Any, *, where: str, known_ids: set[str] | None = None) -> list[str]:
        if not isinstance(messages, list) or not messages:
            return [f"{where} must be a non-empty list of messages"]
        known_ids = set() if known_ids is None else known_ids
        problems = []
        for position, message in enumerate(messages):
            problems += self.message(message, where=(position, where), known_ids=known_ids)
        return problems

    def reply(self, reply: Any, *, where: str, known_ids: set[str]) -> list[str]:
        """Check a one-message reply list against ``known_ids``, the prompt's call ids, which stay unchanged."""
        if not isinstance(reply, list) or len(reply) != 1:
            return [f"{where} must hold exactly one message"]
        problems = self.conversation(reply, where=where, known_ids=set(known_ids))
        if isinstance(reply[0], dict) and reply[0].get("role") != "assistant":
            problems.append(f"{where} has role {reply[0].get('role')!r}; a reply must be an assistant turn")
        return problems

    def message(self, message: Any, *, where: tuple[int, str], known_ids: set[str]) -> list[str]:
        """Check one message and add the ids of the calls it makes to ``known_ids``."""
        passed = self.passed.get(id(message))
        if passed is not None:
            known_ids.update(passed[1])
            return []
        problems = self._message_problems(message, where=where, known_ids=known_ids)
        if not problems and message["role"] != "tool":
            # The message is kept beside its id, so that the id cannot pass to another object while remembered.
            calls = _call_ids(message) if message["role"] == "assistant" and "tool_calls" in message else ()
            self.passed[id(message)] = (message, calls)
        return problems

    def _message_problems(self, message: Any, *, where: tuple[int, str], known_ids: set[str]) -> list[str]:
        if not isinstance(message, dict):
            return [f"{_place(where)} is a {type(message).__name__}, not an object"]
        role = message.get("role")
        if role not in ROLES:
            return [f"{_place(where)} has role {role!r}; expected one of {', '.join(ROLES)}"]
        problems = []
        allowed = self.allowed_keys[role]
        if not message.keys() <= allowed:
            problems += [f"{_place(where)} has key {key!r}, which {role} messages cannot carry"
                         for key in sorted(set(message) - allowed)]
        problems += self._content_problems(message, where=where)
        if self.layout.weighted and role == "assistant":
            problems += self._weight_problems(message, where=where)
        if role == "assistant" and "tool_calls" in message:
            problems += self._calls_problems(message["tool_calls"], where=where)
            known_ids.update(_call_ids(message))
        if role == "tool" and message.get("tool_call_id") not in known_ids:
            problems.append(
                f"{_place(where)} has tool_call_id {message.get('tool_call_id')!r}, which matches no earlier tool call"
            )
        return problems

    def _content_problems(self, message: dict[str, Any], *, where: tuple[int, str]) -> list[str]:
        content = message.get("content")
        calls_only = message["role"] == "assistant" and message.get("tool_calls")
        if content is None and calls_only and self.layout.dialect == "openai":
            return []
        if not isinstance(content, str):
            return [f"{_place(where)} has content {content!r}; content must be a string"]
        if message["role"] == "assistant" and not calls_only and (not content or content.isspace()):
            return [f"{_place(where)} is an assistant turn with empty content and no tool calls"]
        return []

    def _weight_problems(self, message: dict[str, Any], *, where: tuple[int, str]) -> list[str]:
        weight = message.get("weight")
        if isinstance(weight, bool) or weight not in (0, 1):
            return [f"{_place(where)} has weight {weight!r}; an assistant turn's weight must be 0 or 1"]
        return []

    def _calls_problems(self, calls: Any, *, where: tuple[int, str]) -> list[str]:
        if not isinstance(calls, list) or not calls:
            return [f"{_place(where)} has tool_calls that are not a non-empty list"]
        problems = []
        for index, call in enumerate(calls):
            problems += self._call_problems(call, where=f"tool call {index} of {_place(where)}")
        return problems

    def _call_problems(self, call: Any, *, where: str) -> list[str]:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(call.get("id"), str) or not call["id"]:
            return [f"{where} needs an id and a function object"]
        problems = [] if call.get("type") == "function" else [f"{where} has type {call.get('type')!r}, not 'function'"]
        name = function.get("name")
        if not isinstance(name, str) or not name or (self.layout.dialect == "openai" and not TOOL_NAME.match(name)):
            problems.append(f"{where} has function name {name!r}; use 1 to 64 of A-Z a-z 0-9 _ -")
        return problems + self._arguments_problems(function.get("arguments"), where=where)

    def _arguments_problems(self, arguments: Any, *, where: str) -> list[str]:
        if self.tool_arguments == "object":
            if not isinstance(arguments, dict):
                return [f"{where} has arguments {arguments!r}; this file gives arguments as JSON objects"]
            return []
        if not isinstance(arguments, str):
            return [f"{where} has arguments of type {type(arguments).__name__}; this file gives them as JSON strings"]
        try:
            decoded = json.loads(arguments)
        except json.JSONDecodeError as error:
            return [f"{where} has arguments that are not valid JSON ({error.msg})"]
        if not isinstance(decoded, dict):
            return [f"{where} has arguments {arguments!r}, which is not a JSON object"]
        return []


def _place(where: tuple[int, str]) -> str:
    position, name = where
    return f"message {position} of {name}"


def _call_ids(message: dict[str, Any]) -> list[str]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return []
    return [call["id"] for call in calls if isinstance(call, dict) and isinstance(call.get("id"), str)]
