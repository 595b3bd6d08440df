from io import StringIO

from django.core.management.base import OutputWrapper

from reviews.ingest.report import ImportReport
from reviews.services import IngestOutcome, IngestResult


class TerminalIO(StringIO):
    def isatty(self) -> bool:
        return True


def make_report(progress: StringIO, *, progress_every: int = 5000) -> tuple[ImportReport, StringIO]:
    out = StringIO()
    report = ImportReport(out=OutputWrapper(out), progress_out=OutputWrapper(progress), progress_every=progress_every)
    return report, out


def result(created: int, duplicates: int) -> IngestResult:
    outcomes = [IngestOutcome(id=n, source="s", external_id=str(n), created=n < created, queue_id=1)
                for n in range(created + duplicates)]
    return IngestResult(outcomes=tuple(outcomes))


def test_progress_lines_when_not_a_terminal():
    progress = StringIO()
    report, _ = make_report(progress, progress_every=2)

    for _ in range(5):
        report.row_read()
    report.finish()

    assert progress.getvalue() == (
        "2 rows read: 0 created, 0 duplicates skipped, 0 rejected\n"
        "4 rows read: 0 created, 0 duplicates skipped, 0 rejected\n"
    )


def test_progress_rewrites_one_line_on_terminal():
    progress = TerminalIO()
    report, _ = make_report(progress)

    for _ in range(1000):
        report.row_read()
    report.finish()

    assert progress.getvalue() == (
        "\r500 rows read: 0 created, 0 duplicates skipped, 0 rejected"
        "\r1000 rows read: 0 created, 0 duplicates skipped, 0 rejected"
        "\r\033[K"
    )


def test_rejected_row_clears_terminal_progress():
    progress = TerminalIO()
    report, out = make_report(progress)
    for _ in range(500):
        report.row_read()

    report.reject("line 501", "expected a JSON object, got an array")

    assert progress.getvalue().endswith("\r\033[K")
    assert out.getvalue() == "line 501: expected a JSON object, got an array\n"


def test_summary_counts():
    report, _ = make_report(StringIO())
    report.format_chosen("chat", detected_at="line 1")
    for _ in range(4):
        report.row_read()
    report.add(result(2, 1))
    report.reject("line 4", "expected a JSON object, got null")

    assert report.summary_lines() == [
        "Format: chat (detected from line 1)",
        "2 created, 1 duplicate skipped, 1 rejected (4 rows read).",
    ]


def test_summary_of_one_row():
    report, _ = make_report(StringIO())
    report.row_read()
    report.add(result(0, 1))

    assert report.summary_lines()[0] == "0 created, 1 duplicate skipped, 0 rejected (1 row read)."


def test_progress_of_one_row():
    report, _ = make_report(StringIO())
    report.row_read()

    assert report.counts() == "1 row read: 0 created, 0 duplicates skipped, 0 rejected"


def test_summary_of_one_row_strict_rollback():
    report, _ = make_report(StringIO())
    report.row_read()
    report.reject("line 1", "expected a JSON object, got null")
    report.rolled_back = True

    assert report.summary_lines()[0].startswith("1 row read, 1 rejected. Strict mode:")


def test_summary_of_repeated_import():
    report, _ = make_report(StringIO())
    report.format_chosen("chat")
    report.row_read()
    report.add(result(0, 1))

    assert report.summary_lines()[-1] == "Nothing new: every item in the file was imported before."


def test_summary_of_strict_rollback():
    report, _ = make_report(StringIO())
    report.row_read()
    report.row_read()
    report.reject("line 2", "expected a JSON object, got null")
    report.rolled_back = True

    assert report.summary_lines() == [
        "2 rows read, 1 rejected. Strict mode: nothing was imported because 1 row was rejected; "
        "fix the rows listed above and run the command again."
    ]
