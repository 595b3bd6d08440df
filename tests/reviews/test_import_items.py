import gzip
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bookbag.audit.models import AuditEvent
from reviews.models import ReviewItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
HH_RLHF = DATA / "hh-rlhf_helpful-base_test.jsonl.gz"
TAU_BENCH = DATA / "tau-bench_gpt-4o-airline_trajectories.json"
ALPACA = DATA / "alpaca_eval_synthetic.json"

GOOD = {"messages": [{"role": "user", "content": "Is the shop open?"}, {"role": "assistant", "content": "Yes, until 6."}]}


def run(path, **options) -> tuple[str, str]:
    """Run import_items and return its stdout and the CommandError message ('' on success)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_items", str(path), stdout=out, stderr=err, **options)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def jsonl(tmp_path, *lines: str) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hh_rlhf_file_imports_completely(queue):
    output, error = run(HH_RLHF, queue=queue.slug)

    created = ReviewItem.objects.filter(queue=queue, source="hh-rlhf").count()
    assert error == ""
    assert "Format: hh-rlhf (detected from line 1)" in output
    assert f"{created} created, {2354 - created} duplicates skipped, 0 rejected (2354 rows read)." in output
    assert created == 2354


def test_hh_rlhf_edge_rows_are_flagged(queue):
    run(HH_RLHF, queue=queue.slug)

    flagged = ReviewItem.objects.filter(queue=queue, metadata__has_key="hh_rlhf")
    flags = [key for item in flagged for key in item.metadata["hh_rlhf"] if key != "chosen_transcript"]
    assert sorted(flags) == ["empty_response"] * 4 + ["identical_pair"] * 2 + ["prefix_differs"] * 9
    assert all(item.reference_response is None for item in flagged if "prefix_differs" in item.metadata["hh_rlhf"])


def test_tau_bench_file_imports_completely(queue):
    output, error = run(TAU_BENCH, queue=queue.slug)

    assert error == ""
    assert "200 created, 0 duplicates skipped, 0 rejected (200 rows read)." in output
    items = ReviewItem.objects.filter(queue=queue, source="tau-bench")
    assert items.count() == 200
    assert items.filter(external_id="task-49-trial-3").exists()


def test_tau_bench_tool_calls_keep_string_arguments(queue):
    run(TAU_BENCH, queue=queue.slug)

    trajectories = json.loads(TAU_BENCH.read_text())
    expected = sum(
        len(message.get("tool_calls") or [])
        for trajectory in trajectories
        for message in trajectory["traj"][: max(i for i, m in enumerate(trajectory["traj"]) if m["role"] == "assistant")]
    )
    calls = [
        call
        for item in ReviewItem.objects.filter(source="tau-bench")
        for message in item.conversation
        for call in message.get("tool_calls") or []
    ]
    assert len(calls) == expected
    assert all(isinstance(call["function"]["arguments"], str) for call in calls)
    replies_with_calls = ReviewItem.objects.filter(source="tau-bench", response__has_key="tool_calls")
    assert replies_with_calls.count() == 51


def test_synthetic_alpaca_eval_file_imports(queue):
    output, error = run(ALPACA, queue=queue.slug)

    assert error == ""
    assert "5 created, 0 duplicates skipped, 0 rejected (5 rows read)." in output
    item = ReviewItem.objects.get(queue=queue, conversation__0__content="Reply with the single word \"Ready\".")
    assert item.model == "candidate-model-b"
    assert item.metadata["preference"] == 0


def test_same_file_twice_creates_nothing_new(queue):
    run(TAU_BENCH, queue=queue.slug)

    output, error = run(TAU_BENCH, queue=queue.slug)

    assert error == ""
    assert "0 created, 200 duplicates skipped, 0 rejected (200 rows read)." in output
    assert "Nothing new: every item in the file was imported before." in output
    assert ReviewItem.objects.count() == 200


BAD_LINES = [
    ('{"messages": [', "invalid JSON at column 15: Expecting value; each line must contain one JSON object"),
    ("[1, 2]", "expected a JSON object, got an array"),
    (
        json.dumps({"messages": [{"role": "user", "content": "Hello?"}]}),
        "messages: no assistant message to review; the last assistant message is the reply under review",
    ),
    (
        json.dumps({"messages": [{"role": "bot", "content": "Hi"}, {"role": "assistant", "content": "Hi"}]}),
        "messages[0].role: unknown role 'bot'; use system, user, assistant or tool",
    ),
    (
        json.dumps({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "Hi"}]}),
        "messages[0].content: empty text; give the message text or remove the message",
    ),
    (
        '{"messages": [{"role": "user", "content": "caf\\ud800"}, {"role": "assistant", "content": "Hi"}]}',
        "messages[0].content: lone surrogate U+D800 at position 3 is not valid Unicode; "
        "fix the text encoding where the data was produced",
    ),
    (
        '{"messages": [{"role": "user", "content": "Hi\\u0000"}, {"role": "assistant", "content": "Hi"}]}',
        "messages[0].content: NUL character (U+0000) at position 2; remove it from the text",
    ),
    (
        json.dumps({"messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "tool", "tool_call_id": "call_7", "content": "sunny"},
            {"role": "assistant", "content": "Sunny."},
        ]}),
        "messages[1].tool_call_id: 'call_7' matches no earlier tool_calls[].id; "
        "a tool message must respond to a tool call made before it",
    ),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_bad_line_is_reported_and_others_imported(tmp_path, queue, line, reason):
    path = jsonl(tmp_path, json.dumps(GOOD), line)

    output, error = run(path, queue=queue.slug, format="chat")

    assert f"line 2: {reason}\n" in output
    assert "1 created, 0 duplicates skipped, 1 rejected (2 rows read)." in output
    assert error == "1 row was rejected; see the list above."
    assert ReviewItem.objects.count() == 1


def test_empty_response_is_rejected(tmp_path, queue):
    path = jsonl(tmp_path, json.dumps({"prompt": "2 + 2?", "response": "4"}), json.dumps({"prompt": "Hi", "response": ""}))

    output, error = run(path, queue=queue.slug)

    assert "line 2: response: empty text; give the reply to review\n" in output
    assert error == "1 row was rejected; see the list above."


def test_line_numbers_count_blank_lines(tmp_path, queue):
    path = jsonl(tmp_path, json.dumps(GOOD), "", "[]")

    output, _ = run(path, queue=queue.slug)

    assert "line 3: expected a JSON object, got an array\n" in output


def test_array_rows_are_reported_by_index(tmp_path, queue):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([GOOD, {"messages": []}]))

    output, _ = run(path, queue=queue.slug)

    assert "index 1: messages: no assistant message to review;" in output


def test_strict_writes_nothing_when_one_line_is_bad(tmp_path, queue):
    other = {"messages": [GOOD["messages"][0], {"role": "assistant", "content": "No."}]}
    path = jsonl(tmp_path, json.dumps(GOOD), json.dumps(other), "[]")

    output, error = run(path, queue=queue.slug, strict=True)

    assert "line 3: expected a JSON object, got an array\n" in output
    assert "Strict mode: nothing was imported because 1 row was rejected" in output
    assert error == "1 row was rejected; see the list above."
    assert ReviewItem.objects.count() == 0
    assert AuditEvent.objects.filter(action="item.create").count() == 0


def test_strict_imports_valid_file(tmp_path, queue):
    output, error = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, strict=True)

    assert error == ""
    assert "1 created, 0 duplicates skipped, 0 rejected (1 row read)." in output


def test_stored_id_with_other_content_is_rejected(tmp_path, queue):
    run(jsonl(tmp_path, json.dumps({**GOOD, "external_id": "shop-1"})), queue=queue.slug)
    stored = ReviewItem.objects.get()
    changed = {"messages": [GOOD["messages"][0], {"role": "assistant", "content": "Closed."}], "external_id": "shop-1"}
    new = {**GOOD, "external_id": "shop-2"}

    output, error = run(jsonl(tmp_path, json.dumps(new), json.dumps(changed)), queue=queue.slug)

    assert (
        f"line 2: external_id: source 'chat' and external_id 'shop-1' already belong to item {stored.pk} "
        "with a different conversation or response;"
    ) in output
    assert error == "1 row was rejected; see the list above."
    assert ReviewItem.objects.filter(external_id="shop-2").exists()


def test_row_with_unknown_keys_is_rejected(tmp_path, queue):
    path = jsonl(tmp_path, json.dumps(GOOD), json.dumps({**GOOD, "verdcit": "approved", "scroe": 1}))

    output, error = run(path, queue=queue.slug)

    assert "line 2: unknown keys 'scroe', 'verdcit'; move them into metadata or remove them." in output
    assert "1 created, 0 duplicates skipped, 1 rejected (2 rows read)." in output
    assert error == "1 row was rejected; see the list above."
    assert ReviewItem.objects.count() == 1


def test_strict_rejects_unknown_key(tmp_path, queue):
    other = {"messages": [GOOD["messages"][0], {"role": "assistant", "content": "No."}], "verdcit": "approved"}

    output, error = run(jsonl(tmp_path, json.dumps(GOOD), json.dumps(other)), queue=queue.slug, strict=True)

    assert "line 2: unknown key 'verdcit';" in output
    assert "Strict mode: nothing was imported because 1 row was rejected" in output
    assert error == "1 row was rejected; see the list above."
    assert ReviewItem.objects.count() == 0


def test_source_option_names_rows_without_source(tmp_path, queue):
    path = jsonl(tmp_path, json.dumps(GOOD), json.dumps({**GOOD, "source": "own"}))

    run(path, queue=queue.slug, source="nightly", model="bot-v1")

    assert sorted(ReviewItem.objects.values_list("source", "model")) == [("nightly", "bot-v1"), ("own", "bot-v1")]


def test_unknown_format(tmp_path, queue):
    _, error = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, format="csv")

    assert error == "Unknown format 'csv'; use auto, chat, prompt-response, hh-rlhf, alpaca-eval, tau-bench."


def test_row_of_wrong_format(tmp_path, queue):
    output, _ = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, format="hh-rlhf")

    assert "line 1: unknown key 'messages'; move it into metadata or remove it. The hh-rlhf format allows " in output


def test_file_of_wrong_format_suggests_auto(tmp_path, queue):
    path = jsonl(tmp_path, json.dumps(GOOD), json.dumps(GOOD))

    output, error = run(path, queue=queue.slug, format="hh-rlhf")

    assert "line 1: unknown key 'messages';" in output
    assert "line 2: unknown key 'messages';" in output
    assert (
        "No row could be read as hh-rlhf, so the file does not look like the hh-rlhf format; "
        "run the command again with --format auto to detect its format."
    ) in output
    assert error == "2 rows were rejected; see the list above."


def test_strict_file_of_wrong_format_suggests_auto(tmp_path, queue):
    output, _ = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, format="hh-rlhf", strict=True)

    assert "Strict mode: nothing was imported" in output
    assert "does not look like the hh-rlhf format; run the command again with --format auto" in output


def test_partly_matching_file_has_no_format_hint(tmp_path, queue):
    other = {"messages": [GOOD["messages"][0], {"role": "assistant", "content": "No."}], "verdcit": "approved"}

    output, _ = run(jsonl(tmp_path, json.dumps(GOOD), json.dumps(other)), queue=queue.slug, format="chat")

    assert "line 2: unknown key 'verdcit';" in output
    assert "--format auto" not in output


def test_detected_format_has_no_format_hint(tmp_path, queue):
    output, _ = run(jsonl(tmp_path, json.dumps({"question": "Hi"})), queue=queue.slug)

    assert "line 1: no known format matches its keys:" in output
    assert "--format auto" not in output


def test_unreadable_lines_have_no_format_hint(tmp_path, queue):
    output, _ = run(jsonl(tmp_path, "{not json", "[1, 2]"), queue=queue.slug, format="chat")

    assert "(2 rows read)" in output
    assert "--format auto" not in output


def test_undetectable_row(tmp_path, queue):
    output, _ = run(jsonl(tmp_path, json.dumps({"question": "Hi"}), json.dumps(GOOD)), queue=queue.slug)

    assert "line 1: no known format matches its keys:" in output
    assert "Format: chat (detected from line 2)" in output
    assert ReviewItem.objects.count() == 1


def test_missing_file(tmp_path, queue):
    _, error = run(tmp_path / "nothing.jsonl", queue=queue.slug)

    assert error == f"File {str(tmp_path / 'nothing.jsonl')!r} not found; check the path."


def test_missing_queue(tmp_path, db):
    _, error = run(jsonl(tmp_path, json.dumps(GOOD)), queue="no-such-queue")

    assert error == "Queue 'no-such-queue' not found; check the slug or create the queue first."


def test_broken_json_array_file(tmp_path, queue):
    path = tmp_path / "items.json"
    path.write_text("[{}, ")

    _, error = run(path, queue=queue.slug)

    assert error.startswith("Invalid JSON at line 1, column 6: Expecting value.")
    assert ReviewItem.objects.count() == 0


def test_truncated_gzip_keeps_rows_read_before(tmp_path, queue):
    lines = [json.dumps({**GOOD, "external_id": f"shop-{n}"}) for n in range(2000)]
    path = tmp_path / "items.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode())[:-40])

    output, error = run(path, queue=queue.slug)

    assert "is not a valid gzip file" in error
    assert error.endswith("The rows counted above were imported.")
    assert ReviewItem.objects.count() > 0
    assert f"{ReviewItem.objects.count()} created" in output


def test_import_as_manager_is_audited(tmp_path, queue, manager):
    run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, **{"as": "manager"})

    event = AuditEvent.objects.get(action="item.create")
    assert event.actor == manager
    assert event.channel == "command"
    assert ReviewItem.objects.get().created_by == manager


def test_import_without_user_is_audited_as_system(tmp_path, queue):
    run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug)

    event = AuditEvent.objects.get(action="item.create")
    assert event.actor is None
    assert event.channel == "command"


def test_import_as_reviewer_is_refused(tmp_path, queue, reviewer):
    _, error = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, **{"as": "reviewer"})

    assert error == (
        f"User 'reviewer' does not manage queue {queue.slug!r}; pass the username of a manager of "
        f"{queue.slug!r} with --as, or make 'reviewer' a manager of it."
    )
    assert "without --as" not in error
    assert ReviewItem.objects.count() == 0


def test_import_as_unknown_user(tmp_path, queue):
    UserFactory(username="someone")

    _, error = run(jsonl(tmp_path, json.dumps(GOOD)), queue=queue.slug, **{"as": "nobody"})

    assert error == "User 'nobody' not found; check --as."
