import json
import zlib

import pytest

from exports.jsonl import Compressor, JsonlFile, LineEncodingError, jsonl_line, row_encode


def test_line_escapes_unicode_line_separators():
    row = {"content": "one\u2028two\u2029three\x85four"}

    line = jsonl_line(row).decode("utf-8")

    assert line.splitlines() == [line]
    assert json.loads(line) == row


def test_line_keeps_other_text_readable():
    assert jsonl_line({"content": "Grüße, 東京"}) == '{"content":"Grüße, 東京"}'.encode()


def test_line_writes_integers_beyond_64_bits():
    assert jsonl_line({"count": 2**70}) == b'{"count":1180591620717411303424}'


def test_line_rejects_lone_surrogate():
    with pytest.raises(LineEncodingError, match="not valid UTF-8: surrogates not allowed at character 12"):
        jsonl_line({"content": "\ud800"})


def test_encode_digest_ignores_meta_columns():
    first = {"prompt": [{"role": "user", "content": "Hi"}], "meta_example_id": "item-1"}
    second = {"prompt": [{"role": "user", "content": "Hi"}], "meta_example_id": "item-2"}

    assert row_encode(first)[1] == row_encode(second)[1]


def test_encode_digest_tells_targets_apart():
    first = {"prompt": "Hi", "completion": "Hello."}
    second = {"prompt": "Hi", "completion": "Hello!"}

    assert row_encode(first)[1] != row_encode(second)[1]


def test_encode_line_puts_meta_columns_last():
    row = {"meta_example_id": "item-1", "prompt": "Hi", "completion": "Hello.\u2028"}

    line, _digest = row_encode(row)

    assert line == b'{"prompt":"Hi","completion":"Hello.\\u2028","meta_example_id":"item-1"}'
    assert json.loads(line) == row


def test_encode_line_of_meta_columns_only():
    assert row_encode({"meta_example_id": "item-1"})[0] == b'{"meta_example_id":"item-1"}'


def _jsonl_file(tmp_path, compressor):
    return JsonlFile(
        directory=tmp_path, path="sft.jsonl", file_format="test.format", compressor=compressor, kind="sft",
        split="train",
    )


def test_file_entry_counts_rows_and_bytes(tmp_path):
    compressor = Compressor()
    data_file = _jsonl_file(tmp_path, compressor)
    data_file.write({"a": 1})
    data_file.write({"a": 2})

    entry = data_file.close()
    compressor.shutdown()

    assert entry["rows"] == 2
    assert entry["bytes"] == len(b'{"a":1}\n{"a":2}\n') == 16
    assert (entry["kind"], entry["split"], entry["format"]) == ("sft", "train", "test.format")


def test_file_deflates_every_line(tmp_path):
    compressor = Compressor()
    data_file = _jsonl_file(tmp_path, compressor)
    rows = [{"line": number, "text": "x" * (number % 997)} for number in range(5000)]
    for row in rows:
        data_file.write(row)

    entry = data_file.close()
    compressor.shutdown()

    data = zlib.decompress(data_file.deflated_path.read_bytes(), -zlib.MAX_WBITS)
    assert [json.loads(line) for line in data.splitlines()] == rows
    assert entry["bytes"] == len(data)
    assert data_file.crc32 == zlib.crc32(data)


def test_compressor_raises_worker_error(tmp_path):
    compressor = Compressor()

    def fail():
        raise OSError("No space left on device")

    compressor.submit(fail)

    with pytest.raises(OSError, match="No space left"):
        compressor.drain()
    compressor.shutdown()
