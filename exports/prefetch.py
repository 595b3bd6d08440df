"""Reading ahead of a slow iterator on a worker thread, so that its waits overlap the consumer's work.

An export waits for PostgreSQL on every FETCH of its server-side cursor,
and PostgreSQL waits while the export turns the rows into files. Reading
the next batch on a thread lets the two run on separate cores. The thread
spends most of its time waiting on the socket, which releases the GIL.
"""

import itertools
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
# How long the reader waits for room in the queue before it checks whether the consumer stopped, in seconds.
PUT_TIMEOUT = 0.1


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(iterable: Iterable[T], *, batch_size: int, batches: int = 2) -> Iterator[T]:
    """Yield the items of ``iterable`` in order while a thread reads up to ``batches`` batches ahead.

    The first batch is read on the calling thread. So an iterable that runs
    its database query on its first item (as Django's ``iterator()`` does)
    runs it on the caller's connection and in the caller's transaction, and
    the thread only fetches more rows from that cursor. An error raised by
    ``iterable`` is raised here, at the point it was reached. When the
    consumer stops early, the thread stops after its current batch.
    """
    iterator = iter(iterable)
    first = list(itertools.islice(iterator, batch_size))
    if len(first) < batch_size:
        yield from first
        return
    yield from first
    yield from _read_on_thread(iterator, batch_size=batch_size, batches=batches)


def _read_on_thread(iterator: Iterator[T], *, batch_size: int, batches: int) -> Iterator[T]:
    ready: queue.Queue = queue.Queue(maxsize=batches)
    stopped = threading.Event()

    def put(value) -> bool:
        while not stopped.is_set():
            try:
                ready.put(value, timeout=PUT_TIMEOUT)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while batch := list(itertools.islice(iterator, batch_size)):
                if not put(batch):
                    return
            put([])
        except BaseException as error:
            put(_Failure(error))

    reader = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            batch = ready.get()
            if isinstance(batch, _Failure):
                raise batch.error
            if not batch:
                return
            yield from batch
    finally:
        stopped.set()
        reader.join()
