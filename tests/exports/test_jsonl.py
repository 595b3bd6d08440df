import json

from exports.jsonl import JsonlFile, jsonl_line, row_digest


def test_line_escapes_unicode_line_separators():
    row = {"content": "one\u2028two\u2029three\x85four"}

    line = jsonl_line(row)

    assert line.splitlines() == [line]
    assert json.loads(line) == row


def test_line_keeps_other_text_readable():
    assert jsonl_line({"content": "Grüße, 東京"}) == '{"content": "Grüße, 東京"}'


def test_digest_ignores_meta_columns():
    first = {"prompt": [{"role": "user", "content": "Hi"}], "meta_example_id": "item-1"}
    second = {"prompt": [{"role": "user", "content": "Hi"}], "meta_example_id": "item-2"}

    assert row_digest(first) == row_digest(second)


def test_digest_tells_targets_apart():
    first = {"prompt": "Hi", "completion": "Hello."}
    second = {"prompt": "Hi", "completion": "Hello!"}

    assert row_digest(first) != row_digest(second)


def test_file_entry_counts_rows_and_bytes(tmp_path):
    data_file = JsonlFile(directory=tmp_path, path="sft.jsonl", file_format="test.format", kind="sft", split="train")
    data_file.write({"a": 1})
    data_file.write({"a": 2})

    entry = data_file.close()

    assert entry["rows"] == 2
    assert entry["bytes"] == len((tmp_path / "sft.jsonl").read_bytes()) == 18
    assert (entry["kind"], entry["split"], entry["format"]) == ("sft", "train", "test.format")
