import pytest

from reviews.ingest.errors import RowError
from reviews.ingest.messages import assistant_message, messages_validate, split_at_last_reply, text_check

USER = {"role": "user", "content": "My order #1042 has not arrived."}
REPLY = {"role": "assistant", "content": "I am sorry; let me look it up."}
CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": '{"order_id": 1042}'}}
    ],
}
RESULT = {"role": "tool", "tool_call_id": "call_1", "name": "get_order", "content": '{"status": "shipped"}'}


def error_of(messages: list) -> str:
    with pytest.raises(RowError) as caught:
        messages_validate(messages, field="messages")
    return str(caught.value)


def test_valid_conversation_passes_unchanged():
    messages = [{"role": "system", "content": "Be brief."}, USER, CALL, RESULT, REPLY]

    assert messages_validate(messages, field="messages") is messages


def test_unknown_role():
    message = error_of([USER, {"role": "bot", "content": "Hi"}])

    assert message == "messages[1].role: unknown role 'bot'; use system, user, assistant or tool"


def test_missing_role():
    assert error_of([{"content": "Hi"}]) == "messages[0].role: missing; use system, user, assistant or tool"


def test_messages_not_a_list():
    assert error_of({"role": "user"}) == "messages: expected an array of messages, got an object"


def test_message_not_an_object():
    assert error_of([USER, "Hello"]) == "messages[1]: expected a message object, got a string"


def test_empty_user_text():
    message = error_of([{"role": "user", "content": "   "}, REPLY])

    assert message == "messages[0].content: empty text; give the message text or remove the message"


def test_user_content_not_a_string():
    message = error_of([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}, REPLY])

    assert message == "messages[0].content: expected a string, got an array"


def test_empty_assistant_text():
    message = error_of([USER, {"role": "assistant", "content": ""}])

    assert message == "messages[1].content: empty text; an assistant message needs content or tool_calls"


def test_empty_assistant_allowed_when_asked():
    messages = [USER, {"role": "assistant", "content": ""}]

    assert messages_validate(messages, field="messages", allow_empty_assistant=True) is messages


def test_tool_call_id_without_earlier_call():
    message = error_of([USER, {**RESULT, "tool_call_id": "call_9"}])

    assert message == (
        "messages[1].tool_call_id: 'call_9' matches no earlier tool_calls[].id; "
        "a tool message must respond to a tool call made before it"
    )


def test_tool_result_before_its_call():
    message = error_of([USER, RESULT, CALL])

    assert message.startswith("messages[1].tool_call_id: 'call_1' matches no earlier tool_calls[].id")


def test_tool_message_without_call_id():
    message = error_of([USER, CALL, {"role": "tool", "content": "{}"}])

    assert message == (
        "messages[2].tool_call_id: missing; give the id of the assistant tool call that this message responds to"
    )


def test_empty_tool_result_is_valid():
    messages = [USER, CALL, {**RESULT, "content": ""}]

    assert messages_validate(messages, field="messages") is messages


def test_tool_call_arguments_must_be_string():
    call = {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": {"order_id": 1}}}
    message = error_of([USER, {"role": "assistant", "tool_calls": [call]}])

    assert message == (
        "messages[1].tool_calls[0].function.arguments: expected a JSON-encoded string, got an object; "
        "encode the arguments with json.dumps"
    )


def test_tool_call_without_id():
    call = {"type": "function", "function": {"name": "get_order", "arguments": "{}"}}
    message = error_of([USER, {"role": "assistant", "tool_calls": [call]}])

    assert message == "messages[1].tool_calls[0].id: missing; each tool call needs the id that its tool message refers to"


def test_tool_calls_on_user_message():
    message = error_of([{**USER, "tool_calls": CALL["tool_calls"]}])

    assert message == "messages[0].tool_calls: not allowed on a user message; only assistant messages make tool calls"


def test_malformed_argument_string_is_kept():
    call = {"id": "c", "type": "function", "function": {"name": "get_order", "arguments": '{"order_id": '}}
    messages = [USER, {"role": "assistant", "content": None, "tool_calls": [call]}]

    assert messages_validate(messages, field="messages")[1]["tool_calls"][0]["function"]["arguments"] == '{"order_id": '


def test_nul_character():
    with pytest.raises(RowError) as caught:
        text_check({"messages": [USER, {"role": "assistant", "content": "Done\x00"}]}, field="")

    assert str(caught.value) == "messages[1].content: NUL character (U+0000) at position 4; remove it from the text"


def test_lone_surrogate():
    with pytest.raises(RowError) as caught:
        text_check({"messages": [{"role": "user", "content": "caf\ud800"}]}, field="")

    assert str(caught.value) == (
        "messages[0].content: lone surrogate U+D800 at position 3 is not valid Unicode; "
        "fix the text encoding where the data was produced"
    )


def test_lone_surrogate_in_object_key():
    with pytest.raises(RowError) as caught:
        text_check({"metadata": {"\udc80": 1}}, field="")

    assert str(caught.value).startswith("metadata.\udc80: lone surrogate U+DC80 at position 0")


def test_reply_from_string():
    assert assistant_message("Shipped today.", field="response") == {"role": "assistant", "content": "Shipped today."}


def test_reply_from_tool_call_message_has_empty_content():
    reply = assistant_message(CALL, field="response")

    assert reply == {"role": "assistant", "content": "", "tool_calls": CALL["tool_calls"]}


def test_reply_drops_extra_keys():
    reply = assistant_message({**REPLY, "refusal": None, "name": "agent"}, field="response")

    assert reply == REPLY


def test_empty_reply_string():
    with pytest.raises(RowError) as caught:
        assistant_message("  ", field="response")

    assert str(caught.value) == "response: empty text; give the reply to review"


def test_reply_with_user_role():
    with pytest.raises(RowError) as caught:
        assistant_message(USER, field="response")

    assert str(caught.value) == (
        "response.role: expected 'assistant', got 'user'; the reply under review is an assistant message"
    )


def test_split_takes_last_assistant_message():
    closing = {"role": "user", "content": "Thanks!"}

    conversation, reply, after = split_at_last_reply([USER, CALL, RESULT, REPLY, closing], field="messages")

    assert conversation == [USER, CALL, RESULT]
    assert reply == REPLY
    assert after == [closing]


def test_split_without_assistant_message():
    with pytest.raises(RowError) as caught:
        split_at_last_reply([USER], field="messages")

    assert str(caught.value) == (
        "messages: no assistant message to review; the last assistant message is the reply under review"
    )


def test_split_with_nothing_before_reply():
    with pytest.raises(RowError) as caught:
        split_at_last_reply([REPLY], field="messages")

    assert str(caught.value) == (
        "messages: no message before the assistant reply; give at least the user message before it"
    )
