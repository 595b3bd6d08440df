import gzip
import json

import pytest

from reviews.ingest.reading import FileError, SourceRow, rows_read


def write_lines(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_lines_rows_carry_line_numbers(tmp_path):
    path = write_lines(tmp_path / "items.jsonl", ['{"a": 1}', "", '{"a": 2}'])

    assert list(rows_read(path)) == [SourceRow("line 1", value={"a": 1}), SourceRow("line 3", value={"a": 2})]


def test_broken_json_line(tmp_path):
    path = write_lines(tmp_path / "items.jsonl", ['{"a": 1}', '{"a": 1,, "b": 2}'])

    rows = list(rows_read(path))

    assert rows[1] == SourceRow(
        "line 2",
        error="invalid JSON at column 9: Expecting property name enclosed in double quotes; "
        "each line must contain one JSON object",
    )


def test_line_that_is_not_an_object(tmp_path):
    path = write_lines(tmp_path / "items.jsonl", ['{"a": 1}', '["a", 1]', '"text"'])

    rows = list(rows_read(path))

    assert rows[1].error == "expected a JSON object, got an array"
    assert rows[2].error == "expected a JSON object, got a string"


def test_nan_is_rejected(tmp_path):
    path = write_lines(tmp_path / "items.jsonl", ['{"reward": NaN}'])

    assert list(rows_read(path))[0].error == "invalid JSON: NaN is not a JSON value; write null or a number"


def test_invalid_utf8_line(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"a": "ok"}\n{"a": "caf\xe9"}\n')

    rows = list(rows_read(path))

    assert rows[0].value == {"a": "ok"}
    assert rows[1].error == "not valid UTF-8 (byte 10 of the line); save the file as UTF-8"


def test_line_separator_inside_string(tmp_path):
    path = write_lines(tmp_path / "items.jsonl", [json.dumps({"text": "one\u2028two"}, ensure_ascii=False)])

    assert list(rows_read(path)) == [SourceRow("line 1", value={"text": "one\u2028two"})]


def test_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n')

    assert list(rows_read(path)) == [SourceRow("line 1", value={"a": 1})]


def test_gzip_is_detected_by_content(tmp_path):
    path = tmp_path / "items.data"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))

    assert [row.value for row in rows_read(path)] == [{"a": 1}, {"a": 2}]


def test_json_array_rows_carry_indexes(tmp_path):
    path = tmp_path / "items.json"
    path.write_text('\n  [{"a": 1},\n 5,\n {"a": 3}]\n')

    assert list(rows_read(path)) == [
        SourceRow("index 0", value={"a": 1}),
        SourceRow("index 1", error="expected a JSON object, got a number"),
        SourceRow("index 2", value={"a": 3}),
    ]


def test_gzip_json_array(tmp_path):
    path = tmp_path / "items.json.gz"
    path.write_bytes(gzip.compress(b'[{"a": 1}]'))

    assert list(rows_read(path)) == [SourceRow("index 0", value={"a": 1})]


def test_broken_json_array_is_a_file_error(tmp_path):
    path = tmp_path / "items.json"
    path.write_text('[{"a": 1},\n {"a": }]')

    with pytest.raises(FileError) as caught:
        list(rows_read(path))

    assert str(caught.value) == (
        "Invalid JSON at line 2, column 8: Expecting value. "
        "A file that starts with '[' is read as one JSON array; fix the JSON or write JSON Lines."
    )


def test_missing_file(tmp_path):
    with pytest.raises(FileError) as caught:
        list(rows_read(tmp_path / "nothing.jsonl"))

    assert str(caught.value) == f"File {str(tmp_path / 'nothing.jsonl')!r} not found; check the path."


def test_truncated_gzip_is_a_file_error(tmp_path):
    path = tmp_path / "items.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:-30])

    with pytest.raises(FileError) as caught:
        list(rows_read(path))

    assert "is not a valid gzip file" in str(caught.value)
