import threading

import pytest

from exports.prefetch import read_ahead


def test_read_ahead_keeps_order():
    assert list(read_ahead(range(1000), batch_size=7)) == list(range(1000))


def test_read_ahead_of_empty_iterable():
    assert list(read_ahead([], batch_size=10)) == []


def test_read_ahead_raises_reader_error_after_earlier_items():
    def items():
        yield from range(5)
        raise OSError("connection lost")

    seen = []
    with pytest.raises(OSError, match="connection lost"):
        for item in read_ahead(items(), batch_size=2):
            seen.append(item)

    assert seen == [0, 1, 2, 3]


def test_read_ahead_stops_reader_when_consumer_stops():
    produced = []

    def items():
        for number in range(10_000):
            produced.append(number)
            yield number

    reader = read_ahead(items(), batch_size=10, batches=2)
    assert next(reader) == 0
    reader.close()

    assert len(produced) <= 10 * 4
    assert not [thread for thread in threading.enumerate() if thread.name == "export-read-ahead"]


def test_read_ahead_reads_first_batch_on_calling_thread():
    threads = []

    def items():
        for number in range(25):
            threads.append(threading.current_thread())
            yield number

    assert list(read_ahead(items(), batch_size=10)) == list(range(25))
    assert set(threads[:10]) == {threading.current_thread()}
    assert set(threads[10:]) != {threading.current_thread()}
