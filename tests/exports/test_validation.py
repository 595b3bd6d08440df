import copy

import pytest

from exports.formats import format_get
from exports.validation import RowChecker, line_problems, row_problems

USER = {"role": "user", "content": "Is order 42 shipped?"}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": {"order_id": "42"}}}
CALLING = {"role": "assistant", "content": "", "tool_calls": [CALL]}
RESULT = {"role": "tool", "content": "{\"status\": \"shipped\"}", "tool_call_id": "call_1", "name": "get_order"}
ANSWER = {"role": "assistant", "content": "Yes, it shipped today."}
WRONG = {"role": "assistant", "content": "It never left."}
STRING_CALL = {**CALL, "function": {"name": "get_order", "arguments": "{\"order_id\": \"42\"}"}}

VALID_ROWS = {
    ("trl", "sft"): {"prompt": [USER, CALLING, RESULT], "completion": [ANSWER], "meta_example_id": "item-1"},
    ("trl", "dpo"): {"prompt": [USER], "chosen": [ANSWER], "rejected": [WRONG], "meta_example_id": "item-1"},
    ("trl", "kto"): {"prompt": [USER], "completion": [WRONG], "label": False, "meta_example_id": "item-1"},
    ("trl", "sft_messages"): {"messages": [USER, CALLING, RESULT, ANSWER], "tools": "[{\"type\": \"function\", "
                              "\"function\": {\"name\": \"get_order\"}}]", "meta_example_id": "item-1"},
    ("openai", "sft"): {"messages": [
        USER, {"role": "assistant", "tool_calls": [STRING_CALL], "weight": 0},
        {"role": "tool", "content": "{}", "tool_call_id": "call_1"}, {**ANSWER, "weight": 1},
    ]},
    ("openai", "dpo"): {"input": {"messages": [USER]}, "preferred_output": [ANSWER], "non_preferred_output": [WRONG]},
}


def _problems(export_format: str, kind: str, row) -> list[str]:
    writer = format_get(export_format).writers[kind]
    encoding = "string" if export_format == "openai" else "object"
    return row_problems(row, layout=writer.layout, tool_arguments=encoding)


@pytest.mark.parametrize(("export_format", "kind"), list(VALID_ROWS))
def test_valid_rows_pass(export_format, kind):
    assert _problems(export_format, kind, VALID_ROWS[(export_format, kind)]) == []


def _changed(key, change):
    row = copy.deepcopy(VALID_ROWS[key])
    change(row)
    return row


def _set(path, value):
    def change(row):
        target = row
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


INVALID = [
    ("unknown role", ("trl", "sft"), _set(["prompt", 0, "role"], "human"),
     "message 0 of prompt has role 'human'; expected one of system, user, assistant, tool"),
    ("empty assistant reply", ("trl", "sft"), _set(["completion", 0, "content"], "  "),
     "message 0 of completion is an assistant turn with empty content and no tool calls"),
    ("null content", ("trl", "dpo"), _set(["chosen", 0, "content"], None),
     "message 0 of chosen has content None; content must be a string"),
    ("prompt ends with assistant", ("trl", "dpo"), _set(["prompt"], [USER, WRONG]),
     "prompt ends with role 'assistant'; a prompt must end with a user or tool turn"),
    ("openai prompt ends with system", ("openai", "dpo"), _set(["input", "messages"], [USER, {"role": "system",
     "content": "Be brief."}]), "input.messages ends with role 'system'"),
    ("unanswered tool result", ("trl", "sft"), _set(["prompt", 2, "tool_call_id"], "call_9"),
     "message 2 of prompt has tool_call_id 'call_9', which matches no earlier tool call"),
    ("arguments not an object", ("trl", "sft"), _set(["prompt", 1, "tool_calls", 0, "function", "arguments"], [42]),
     "tool call 0 of message 1 of prompt has arguments [42]; this file gives arguments as JSON objects"),
    ("arguments not JSON", ("openai", "sft"), _set(["messages", 1, "tool_calls", 0, "function", "arguments"], "{x"),
     "tool call 0 of message 1 of messages has arguments that are not valid JSON"),
    ("arguments as object in openai", ("openai", "sft"),
     _set(["messages", 1, "tool_calls", 0, "function", "arguments"], {"order_id": "42"}),
     "has arguments of type dict; this file gives them as JSON strings"),
    ("call without id", ("trl", "sft"), _set(["prompt", 1, "tool_calls", 0, "id"], ""),
     "tool call 0 of message 1 of prompt needs an id and a function object"),
    ("tool name with space", ("openai", "sft"), _set(["messages", 1, "tool_calls", 0, "function", "name"], "get order"),
     "has function name 'get order'; use 1 to 64 of A-Z a-z 0-9 _ -"),
    ("reserved column", ("trl", "sft"), _set(["labels"], "x"), "column 'labels' is not part of the format"),
    ("reserved meta column", ("trl", "sft"), _set(["meta_input_ids"], [1]),
     "column 'meta_input_ids' is a name TRL reserves; rename it"),
    ("label outside kto", ("trl", "dpo"), _set(["label"], True), "column 'label' is a name TRL reserves"),
    ("unprefixed column", ("trl", "dpo"), _set(["reviewer"], "x"),
     "column 'reviewer' is not part of the format; prefix metadata columns with meta_"),
    ("extra openai key", ("openai", "sft"), _set(["qa_review_id"], 7), "key 'qa_review_id' is not part of the format"),
    ("extra openai input key", ("openai", "dpo"), _set(["input", "metadata"], {}),
     "key 'metadata' is not part of the format"),
    ("extra message key", ("openai", "dpo"), _set(["preferred_output", 0, "weight"], 1),
     "message 0 of preferred_output has key 'weight', which assistant messages cannot carry"),
    ("identical pair", ("trl", "dpo"),
     _set(["rejected"], [{"role": "assistant", "content": " Yes,  it shipped today."}]),
     "chosen and rejected are identical once whitespace is collapsed"),
    ("identical openai pair", ("openai", "dpo"), _set(["non_preferred_output"], [ANSWER]),
     "preferred_output and non_preferred_output are identical once whitespace is collapsed"),
    ("two preferred outputs", ("openai", "dpo"), _set(["preferred_output"], [ANSWER, ANSWER]),
     "preferred_output must hold exactly one message"),
    ("reply from user", ("trl", "sft"), _set(["completion"], [USER]),
     "completion has role 'user'; a reply must be an assistant turn"),
    ("weight two", ("openai", "sft"), _set(["messages", 3, "weight"], 2),
     "message 3 of messages has weight 2; an assistant turn's weight must be 0 or 1"),
    ("reviewed reply not weighted", ("openai", "sft"), _set(["messages", 3, "weight"], 0),
     "the reviewed reply, the last of messages, has weight 0, not 1"),
    ("conversation ends with user", ("trl", "sft_messages"), _set(["messages"], [USER]),
     "messages ends with role 'user', not with the reviewed assistant reply"),
    ("empty messages", ("trl", "sft_messages"), _set(["messages"], []), "messages must be a non-empty list"),
    ("label as text", ("trl", "kto"), _set(["label"], "false"), "label is 'false', not true or false"),
    ("tools as list in trl", ("trl", "sft_messages"), _set(["tools"], [{"type": "function"}]),
     "tools must be a JSON string in TRL files, not a list"),
    ("missing column", ("trl", "dpo"), lambda row: row.pop("rejected"), "column 'rejected' is missing"),
]


@pytest.mark.parametrize(
    ("key", "change", "reason"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_rows_are_named(key, change, reason):
    problems = _problems(*key, _changed(key, change))

    assert any(reason in problem for problem in problems), problems


def test_string_encoding_expects_json_strings():
    row = copy.deepcopy(VALID_ROWS[("trl", "sft")])
    row["prompt"][1]["tool_calls"] = [STRING_CALL]

    assert _problems_with_encoding(row, "string") == []
    assert _problems_with_encoding(VALID_ROWS[("trl", "sft")], "string") == [
        "tool call 0 of message 1 of prompt has arguments of type dict; this file gives them as JSON strings"
    ]


def _problems_with_encoding(row, encoding):
    return row_problems(row, layout=format_get("trl").writers["sft"].layout, tool_arguments=encoding)


def test_line_with_lone_surrogate_is_not_utf8():
    assert line_problems('{"content": "\ud800"}') == [
        "the row is not valid UTF-8: surrogates not allowed at character 13"
    ]


def test_line_breaks_and_bom_are_named():
    assert line_problems('\ufeff{"content": "a\u2028b"}') == [
        "the row starts with a byte order mark", "the row spans more than one line",
    ]


def test_valid_line_passes():
    assert line_problems('{"content": "Grüße"}') == []


def _trl_checker():
    return RowChecker(tool_arguments="object")


def test_checker_passes_shared_prompt_in_each_row():
    checker = _trl_checker()
    prompt = [USER, CALLING, RESULT]
    sft = {"prompt": prompt, "completion": [ANSWER], "meta_example_id": "item-1"}
    dpo = {"prompt": prompt, "chosen": [ANSWER], "rejected": [WRONG], "meta_example_id": "item-1"}

    assert checker.problems(sft, layout=format_get("trl").writers["sft"].layout) == []
    assert checker.problems(dpo, layout=format_get("trl").writers["dpo"].layout) == []


def test_checker_names_shared_bad_message_in_each_row():
    checker = _trl_checker()
    bad = {"role": "user", "content": 5}
    sft = {"prompt": [bad], "completion": [ANSWER], "meta_example_id": "item-1"}
    whole = {"messages": [bad, ANSWER], "meta_example_id": "item-1"}

    assert checker.problems(sft, layout=format_get("trl").writers["sft"].layout) == [
        "message 0 of prompt has content 5; content must be a string"
    ]
    assert checker.problems(whole, layout=format_get("trl").writers["sft_messages"].layout) == [
        "message 0 of messages has content 5; content must be a string"
    ]


def test_checker_rechecks_tool_message_in_other_row():
    checker = _trl_checker()
    layout = format_get("trl").writers["sft"].layout
    answered = {"prompt": [USER, CALLING, RESULT], "completion": [ANSWER], "meta_example_id": "item-1"}
    unanswered = {"prompt": [USER, RESULT], "completion": [ANSWER], "meta_example_id": "item-1"}

    assert checker.problems(answered, layout=layout) == []
    assert checker.problems(unanswered, layout=layout) == [
        "message 1 of prompt has tool_call_id 'call_1', which matches no earlier tool call"
    ]


def test_checker_keeps_call_ids_of_passed_message():
    checker = _trl_checker()
    layout = format_get("trl").writers["sft"].layout
    first = {"prompt": [USER, CALLING, RESULT], "completion": [ANSWER], "meta_example_id": "item-1"}
    again = {"prompt": [USER, CALLING, RESULT, ANSWER, USER], "completion": [ANSWER], "meta_example_id": "item-1"}

    assert checker.problems(first, layout=layout) == []
    assert checker.problems(again, layout=layout) == []


def test_checker_rechecks_messages_after_item_start():
    checker = _trl_checker()
    layout = format_get("trl").writers["sft"].layout
    user = dict(USER)
    row = {"prompt": [user], "completion": [ANSWER], "meta_example_id": "item-1"}
    assert checker.problems(row, layout=layout) == []

    user["content"] = None
    checker.item_start()

    assert checker.problems(row, layout=layout) == ["message 0 of prompt has content None; content must be a string"]


def test_checker_applies_weight_rules_per_file():
    checker = RowChecker(tool_arguments="string")
    answer = {**ANSWER, "weight": 1}
    sft = {"messages": [USER, answer]}
    dpo = {"input": {"messages": [USER]}, "preferred_output": [answer], "non_preferred_output": [WRONG]}

    assert checker.problems(sft, layout=format_get("openai").writers["sft"].layout) == []
    assert checker.problems(dpo, layout=format_get("openai").writers["dpo"].layout) == [
        "message 0 of preferred_output has key 'weight', which assistant messages cannot carry"
    ]


def test_checker_rechecks_other_tools_object():
    checker = _trl_checker()
    layout = format_get("trl").writers["sft_messages"].layout
    valid = dict(VALID_ROWS[("trl", "sft_messages")])
    broken = {**valid, "tools": "[{\"type\": \"function\", \"function\": {}}]"}

    assert checker.problems(valid, layout=layout) == []
    assert checker.problems(broken, layout=layout) == ["tool 0 of tools has name None; use 1 to 64 of A-Z a-z 0-9 _ -"]
