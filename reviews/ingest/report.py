"""The report of one file import: counts, rejected rows and progress, written as they happen."""

from django.core.management.base import OutputWrapper

from reviews.services.items import IngestResult

TTY_REFRESH_ROWS = 500
CLEAR_LINE = "\r\033[K"


def counted(count: int, singular: str, plural: str) -> str:
    """Return ``count`` with the noun in its singular or plural form: ``1 row``, ``2 rows``."""
    return f"{count} {singular if count == 1 else plural}"


class ImportReport:
    """Counts of one file import, with each rejected row and the progress written as they happen.

    Rejected rows go to ``out`` as ``<location>: <reason>``, so a report of a
    huge file needs no memory per row. Progress goes to ``progress_out``: one
    line rewritten in place on a terminal, otherwise a new line every
    ``progress_every`` rows.
    """

    def __init__(self, *, out: OutputWrapper, progress_out: OutputWrapper, progress_every: int = 5000) -> None:
        self.out = out
        self.progress_out = progress_out
        self.tty = progress_out.isatty()
        self.progress_every = progress_every
        self.rows = 0
        self.created = 0
        self.duplicates = 0
        self.unqueued = 0
        self.rejected = 0
        # Rows rejected because they do not fit the row format, as opposed to unreadable JSON.
        self.rejected_by_format = 0
        self.format_line = ""
        self.format_given = ""
        self.rolled_back = False
        self._progress_shown = False

    def row_read(self) -> None:
        self.rows += 1
        if self.tty and self.rows % TTY_REFRESH_ROWS == 0:
            self.progress_out.write(f"\r{self.counts()}", ending="")
            self.progress_out.flush()
            self._progress_shown = True
        elif not self.tty and self.rows % self.progress_every == 0:
            self.progress_out.write(self.counts())

    def reject(self, location: str, reason: str, *, by_format: bool = False) -> None:
        """Write a rejected row. ``by_format`` marks a row that is valid JSON but does not fit the row format."""
        self.rejected += 1
        if by_format:
            self.rejected_by_format += 1
        self._clear_progress()
        self.out.write(f"{location}: {reason}")

    def format_chosen(self, name: str, *, detected_at: str = "") -> None:
        self.format_line = f"Format: {name} (detected from {detected_at})" if detected_at else f"Format: {name}"
        self.format_given = "" if detected_at else name

    def add(self, result: IngestResult) -> None:
        self.created += result.created
        self.duplicates += result.duplicates
        self.unqueued += result.unqueued

    def counts(self) -> str:
        return (
            f"{counted(self.rows, 'row', 'rows')} read: {self.created} created, "
            f"{counted(self.duplicates, 'duplicate', 'duplicates')} skipped, {self.rejected} rejected"
        )

    def finish(self) -> None:
        """End the progress line so that the summary starts on a fresh line."""
        self._clear_progress()

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.progress_out.write(CLEAR_LINE, ending="")
            self.progress_out.flush()
            self._progress_shown = False

    def summary_lines(self) -> list[str]:
        """Return the closing lines: the format, the counts, and what they mean."""
        lines = [self.format_line] if self.format_line else []
        rows_read = f"{counted(self.rows, 'row', 'rows')} read"
        if self.rolled_back:
            plural = "row was" if self.rejected == 1 else "rows were"
            lines.append(
                f"{rows_read}, {self.rejected} rejected. Strict mode: nothing was imported because "
                f"{self.rejected} {plural} rejected; fix the rows listed above and run the command again."
            )
            return lines + self._format_hint()
        lines.append(
            f"{self.created} created, {counted(self.duplicates, 'duplicate', 'duplicates')} skipped, "
            f"{self.rejected} rejected ({rows_read})."
        )
        lines += self._format_hint()
        if self.unqueued:
            noun, verb = ("row", "was") if self.unqueued == 1 else ("rows", "were")
            lines.append(
                f"{self.unqueued} {noun} matched no queue's routing rules and {verb} kept without a queue; "
                f"an admin moves {'it' if self.unqueued == 1 else 'them'} into a queue with the \"Move to queue\" "
                "action of the admin's review item list, and a queue's routing rules decide where later rows go."
            )
        if self.created == 0 and self.duplicates and not self.rejected:
            lines.append("Nothing new: every item in the file was imported before.")
        return lines

    def _format_hint(self) -> list[str]:
        """Suggest detecting the format when no row of the file fits the format named with --format."""
        if not self.format_given or not self.rows or self.rejected_by_format < self.rows:
            return []
        return [
            f"No row could be read as {self.format_given}, so the file does not look like the {self.format_given} "
            "format; run the command again with --format auto to detect its format."
        ]
