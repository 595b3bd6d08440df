import gzip
import json
from pathlib import Path

import pytest

from reviews.ingest.errors import RowError
from reviews.ingest.formats import FORMATS, format_detect, row_convert
from reviews.ingest.records import RowDefaults, content_hash_compute

DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULTS = RowDefaults()


def convert(name: str, row: dict, defaults: RowDefaults = DEFAULTS):
    return row_convert(row, row_format=FORMATS[name], defaults=defaults)


def convert_error(name: str, row: dict) -> str:
    with pytest.raises(RowError) as caught:
        convert(name, row)
    return str(caught.value)


def hh_rows() -> list[dict]:
    with gzip.open(DATA / "hh-rlhf_helpful-base_test.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


CHAT = {
    "messages": [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my parcel?"},
        {"role": "assistant", "content": "It left the depot this morning."},
    ]
}


def test_chat_splits_at_last_assistant_message():
    record = convert("chat", CHAT)

    assert record.conversation == CHAT["messages"][:2]
    assert record.response == {"role": "assistant", "content": "It left the depot this morning."}
    assert record.source == "chat"
    assert record.external_id == record.content_hash


def test_chat_keeps_messages_after_reply_in_metadata():
    closing = {"role": "user", "content": "Thanks!"}

    record = convert("chat", {"messages": [*CHAT["messages"], closing]})

    assert record.metadata == {"messages_after_response": [closing]}


def test_chat_keeps_metadata():
    record = convert("chat", {**CHAT, "metadata": {"ticket": 7}})

    assert record.metadata == {"ticket": 7}


def test_chat_rejects_unknown_keys():
    message = convert_error("chat", {**CHAT, "split": "train", "sorce": "web", "metadata": {"ticket": 7}})

    assert message == (
        "unknown keys 'sorce', 'split'; move them into metadata or remove them. The chat format allows messages, "
        "parallel_tool_calls, external_id, source, model, metadata and tools."
    )


def test_chat_keeps_parallel_tool_calls_in_metadata():
    record = convert("chat", {**CHAT, "parallel_tool_calls": False})

    assert record.metadata == {"parallel_tool_calls": False}


def test_key_given_twice_is_rejected():
    trajectory = {"traj": CHAT["messages"], "task_id": 3, "trial": 0, "reward": 1.0, "metadata": {"reward": 0.0}}

    message = convert_error("tau-bench", trajectory)

    assert message == "metadata.reward: also given as a key of the row; keep only one of them"


@pytest.mark.parametrize(("name", "row"), [
    ("prompt-response", {"prompt": "2 + 2?", "response": "4", "answer": "4"}),
    ("hh-rlhf", {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: No.",
                 "answer": "4"}),
    ("alpaca-eval", {"instruction": "Hi", "output_1": "Hello!", "output_2": "Yo.", "answer": "4"}),
    ("tau-bench", {"traj": CHAT["messages"], "task_id": 3, "trial": 0, "answer": "4"}),
])
def test_every_format_rejects_unknown_key(name, row):
    message = convert_error(name, row)

    assert message.startswith(f"unknown key 'answer'; move it into metadata or remove it. The {name} format allows ")


def test_chat_without_assistant_message():
    message = convert_error("chat", {"messages": CHAT["messages"][:2]})

    assert message == "messages: no assistant message to review; the last assistant message is the reply under review"


def test_chat_without_messages():
    message = convert_error("chat", {"model": "bot-v1"})

    assert message == "messages: missing; give the conversation as an array of messages"


def test_optional_keys_win_over_defaults():
    row = {**CHAT, "external_id": 17, "source": "support-bot", "model": "bot-v2", "tools": [{"type": "function"}]}

    record = convert("chat", row, RowDefaults(source="nightly", model="bot-v1"))

    assert (record.external_id, record.source, record.model) == ("17", "support-bot", "bot-v2")
    assert record.tools == [{"type": "function"}]


def test_command_defaults_fill_missing_keys():
    record = convert("chat", CHAT, RowDefaults(source="nightly", model="bot-v1"))

    assert (record.source, record.model) == ("nightly", "bot-v1")


def test_external_id_too_long():
    message = convert_error("chat", {**CHAT, "external_id": "x" * 201})

    assert message == "external_id: 201 characters, more than the maximum of 200; shorten it"


def test_content_hash_ignores_key_order():
    reordered = {"messages": [dict(reversed(list(message.items()))) for message in CHAT["messages"]]}

    assert convert("chat", reordered).content_hash == convert("chat", CHAT).content_hash


def test_content_hash_is_sha256_of_canonical_json():
    record = convert("chat", CHAT)

    assert record.content_hash == content_hash_compute(record.conversation, record.response)
    assert len(record.content_hash) == 64


def test_prompt_response_builds_user_message():
    record = convert("prompt-response", {"prompt": "2 + 2?", "response": "4"})

    assert record.conversation == [{"role": "user", "content": "2 + 2?"}]
    assert record.response == {"role": "assistant", "content": "4"}
    assert record.source == "prompt-response"


def test_prompt_response_accepts_message_dict():
    record = convert("prompt-response", {"prompt": "2 + 2?", "response": {"role": "assistant", "content": "4"}})

    assert record.response == {"role": "assistant", "content": "4"}


def test_prompt_response_with_empty_response():
    assert convert_error("prompt-response", {"prompt": "2 + 2?", "response": ""}) == (
        "response: empty text; give the reply to review"
    )


def test_prompt_response_with_empty_prompt():
    assert convert_error("prompt-response", {"prompt": " ", "response": "4"}) == (
        "prompt: empty text; give the user message before the reply"
    )


def test_alpaca_eval_reply_is_output_2():
    row = json.loads((DATA / "alpaca_eval_synthetic.json").read_text())[1]

    record = convert("alpaca-eval", row)

    assert record.conversation == [{"role": "user", "content": row["instruction"]}]
    assert record.response == {"role": "assistant", "content": row["output_2"]}
    assert record.reference_response == {"role": "assistant", "content": row["output_1"]}
    assert record.model == "candidate-model-b"
    assert record.source == "alpaca-eval"
    assert record.metadata == {
        "generator_1": "baseline-model-a", "dataset": "helpful_base", "annotator": "synthetic_judge",
        "preference": 1, "price_per_example": 0.01, "time_per_example": 0.6,
    }


def test_alpaca_eval_without_output_1():
    message = convert_error("alpaca-eval", {"instruction": "Hi", "output_2": "Hello"})

    assert message == "output_1: missing; an AlpacaEval row contains the baseline output_1 and the output_2 under review"


def test_tau_bench_trajectory():
    trajectory = json.loads((DATA / "tau-bench_gpt-4o-airline_trajectories.json").read_text())[0]

    record = convert("tau-bench", trajectory)

    assert record.external_id == "task-0-trial-0"
    assert record.source == "tau-bench"
    assert record.conversation == trajectory["traj"][:-2]
    assert record.response == {"role": "assistant", "content": trajectory["traj"][-2]["content"]}
    assert record.metadata["messages_after_response"] == trajectory["traj"][-1:]
    assert (record.metadata["task_id"], record.metadata["trial"]) == (0, 0)
    assert record.metadata["reward"] == trajectory["reward"]
    assert record.metadata["info"] == trajectory["info"]


def test_tau_bench_keeps_tool_call_arguments_as_strings():
    trajectory = json.loads((DATA / "tau-bench_gpt-4o-airline_trajectories.json").read_text())[0]

    record = convert("tau-bench", trajectory)

    calls = [call for message in record.conversation for call in message.get("tool_calls") or []]
    assert calls
    assert all(isinstance(call["function"]["arguments"], str) for call in calls)
    assert calls == [call for message in trajectory["traj"][:-2] for call in message.get("tool_calls") or []]


def test_tau_bench_without_task_id():
    message = convert_error("tau-bench", {"traj": CHAT["messages"], "trial": 0})

    assert message == "task_id: expected an integer or a string, got null; it names the trajectory"


def test_hh_rlhf_splits_transcripts():
    row = {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a fruit.\n\nAssistant: An apple.",
        "rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a fruit.\n\nAssistant: No.",
    }

    record = convert("hh-rlhf", row)

    assert record.conversation == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Name a fruit."},
    ]
    assert record.response == {"role": "assistant", "content": "No."}
    assert record.reference_response == {"role": "assistant", "content": "An apple."}
    assert record.metadata == {}
    assert record.source == "hh-rlhf"


def test_hh_rlhf_prefix_differs_drops_reference():
    row = hh_rows()[168]

    record = convert("hh-rlhf", row)

    assert record.metadata == {"hh_rlhf": {"prefix_differs": True, "chosen_transcript": row["chosen"]}}
    assert record.reference_response is None
    assert record.response["content"] == row["rejected"].rsplit("\n\nAssistant: ", 1)[1]


def test_hh_rlhf_has_nine_rows_with_differing_prefixes():
    flagged = [index for index, row in enumerate(hh_rows())
               if convert("hh-rlhf", row).metadata.get("hh_rlhf", {}).get("prefix_differs")]

    assert flagged == [168, 354, 567, 743, 960, 1011, 1166, 1307, 1450]


def test_hh_rlhf_identical_pair_is_imported():
    row = hh_rows()[721]

    record = convert("hh-rlhf", row)

    assert row["chosen"] == row["rejected"]
    assert record.metadata == {"hh_rlhf": {"identical_pair": True}}
    assert record.reference_response == record.response


def test_hh_rlhf_empty_rejected_reply_is_imported():
    record = convert("hh-rlhf", hh_rows()[740])

    assert record.response == {"role": "assistant", "content": ""}
    assert record.metadata == {"hh_rlhf": {"empty_response": True}}
    assert record.reference_response["content"] == "Did you have warm or cold weather in the previous day?"


def test_hh_rlhf_transcript_without_human_turn():
    message = convert_error("hh-rlhf", {"chosen": "Assistant: Hi", "rejected": "\n\nHuman: Hi\n\nAssistant: Yo"})

    assert message == "chosen: the transcript must start with a '\\n\\nHuman: ' turn"


def test_hh_rlhf_transcript_ending_with_human_turn():
    message = convert_error("hh-rlhf", {"chosen": "\n\nHuman: Hi\n\nAssistant: Yo", "rejected": "\n\nHuman: Hi"})

    assert message == "rejected: the transcript must end with an '\\n\\nAssistant: ' turn, the reply to review"


@pytest.mark.parametrize(("row", "name"), [
    ({"traj": [], "task_id": 1, "trial": 0}, "tau-bench"),
    ({"messages": []}, "chat"),
    ({"chosen": "", "rejected": ""}, "hh-rlhf"),
    ({"instruction": "", "output_1": "", "output_2": ""}, "alpaca-eval"),
    ({"prompt": "", "response": ""}, "prompt-response"),
])
def test_format_detection(row, name):
    assert format_detect(row).name == name


def test_detection_without_match():
    with pytest.raises(RowError) as caught:
        format_detect({"question": "Hi", "answer": "Hello"})

    assert str(caught.value).startswith("no known format matches its keys: expected messages (chat)")
    assert str(caught.value).endswith("pass --format to choose one")


def test_nul_anywhere_in_row_is_rejected():
    message = convert_error("chat", {**CHAT, "metadata": {"note": "a\x00b"}})

    assert message == "metadata.note: NUL character (U+0000) at position 1; remove it from the text"
