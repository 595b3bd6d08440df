"""Importing a file of AI replies into a queue, in batches, under the rejected-row policy.

Policy: by default every valid row is imported, and every invalid row is
reported with its location and reason. The caller then signals failure when
any row was rejected, so that scripts notice. Each batch of ``BATCH_SIZE``
rows is one transaction. With ``strict``, the whole file runs in one
transaction that is rolled back when any row is rejected, so nothing is
written. A partial import is never silent, because every skipped row is in
the report.
"""

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from django.db import transaction

from reviews.models import Queue
from reviews.services.items import IngestConflict, items_ingest, items_ingest_routed

from .errors import RowError
from .formats import FORMATS, Format, format_detect, row_convert
from .reading import FileError, SourceRow, rows_read
from .records import ItemRecord, RowDefaults
from .report import ImportReport

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


class _StrictRollback(Exception):
    pass


def file_import(
    *,
    path: Path,
    queue: Queue | None,
    actor,
    report: ImportReport,
    format_name: str = "auto",
    defaults: RowDefaults = RowDefaults(),
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Import the rows of the file at ``path`` into ``queue``, writing counts and rejected rows to ``report``.

    Without ``queue``, ``items_ingest_routed`` chooses each row's queue and
    keeps the rows no queue takes unqueued. Raises reading.FileError when the file cannot be read. Without
    ``strict``, the rows read before that point are still saved.
    """
    importer = _Importer(queue=queue, actor=actor, report=report, format_name=format_name,
                         defaults=defaults, batch_size=batch_size)
    queue_id = queue.pk if queue else None
    logger.info("items.import.started", extra={"queue_id": queue_id, "path": str(path), "strict": strict})
    if not strict:
        importer.run(rows_read(path))
    else:
        try:
            with transaction.atomic():
                importer.run(rows_read(path))
                if report.rejected:
                    raise _StrictRollback
        except _StrictRollback:
            report.rolled_back = True
    logger.info("items.import.finished", extra={
        "queue_id": queue_id, "unqueued_count": report.unqueued, "row_count": report.rows, "created_count": report.created,
        "duplicate_count": report.duplicates, "rejected_count": report.rejected, "rolled_back": report.rolled_back,
    })


class _Importer:
    def __init__(self, *, queue: Queue | None, actor, report: ImportReport, format_name: str, defaults: RowDefaults,
                 batch_size: int) -> None:
        self.queue = queue
        self.actor = actor
        self.report = report
        self.defaults = defaults
        self.batch_size = batch_size
        self.row_format: Format | None = None if format_name == "auto" else FORMATS[format_name]
        self.batch: list[ItemRecord] = []
        if self.row_format is not None:
            report.format_chosen(self.row_format.name)

    def run(self, rows: Iterator[SourceRow]) -> None:
        try:
            for row in rows:
                self.report.row_read()
                self._take(row)
                if len(self.batch) >= self.batch_size:
                    self._flush()
        except FileError:
            # The rows read before the broken part of the file are still imported and counted.
            self._flush()
            raise
        else:
            self._flush()
        finally:
            self.report.finish()

    def _take(self, row: SourceRow) -> None:
        if row.error:
            self.report.reject(row.location, row.error)
            return
        try:
            if self.row_format is None:
                self.row_format = format_detect(row.value)
                self.report.format_chosen(self.row_format.name, detected_at=row.location)
            record = row_convert(row.value, row_format=self.row_format, defaults=self.defaults)
        except RowError as error:
            self.report.reject(row.location, str(error), by_format=True)
            return
        self.batch.append(replace(record, label=row.location))

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        while batch:
            try:
                if self.queue is None:
                    result = items_ingest_routed(records=batch, actor=self.actor)
                else:
                    result = items_ingest(queue=self.queue, records=batch, actor=self.actor)
            except IngestConflict as conflict:
                for index, reason in conflict.reasons.items():
                    self.report.reject(batch[index].label, f"external_id: {reason}")
                batch = [record for index, record in enumerate(batch) if index not in conflict.reasons]
                continue
            self.report.add(result)
            return
