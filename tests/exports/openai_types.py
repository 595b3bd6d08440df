"""openai's own message types, validated with pydantic, plus the key checks those types leave out."""

from openai.types.chat import ChatCompletionMessageParam
from pydantic import TypeAdapter

MESSAGES = TypeAdapter(list[ChatCompletionMessageParam])
# Keys each role may carry in a fine-tuning file; the TypedDicts ignore unknown keys, so they are checked here.
MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "tool_calls", "weight"},
    "tool": {"role", "content", "tool_call_id"},
}


def _consume(value) -> None:
    """Walk a validated value so that pydantic checks the lazy iterables (``tool_calls``) too."""
    if isinstance(value, dict):
        for entry in value.values():
            _consume(entry)
    elif not isinstance(value, str | bytes) and hasattr(value, "__iter__"):
        for entry in value:
            _consume(entry)


def check_messages(messages: list[dict]) -> None:
    """Validate with openai's message types, then check the keys and roles the types let through."""
    _consume(MESSAGES.validate_python(messages))
    for message in messages:
        assert message["role"] in MESSAGE_KEYS, message
        assert set(message) <= MESSAGE_KEYS[message["role"]], message
