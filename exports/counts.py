"""The counts of a finished export job as lines of text, for the commands that build bundles."""

from .models import ExportJob


def counts_lines(job: ExportJob) -> list[str]:
    """Return one line per figure of ``job.counts``: items by verdict, rows per file kind, then the left-out rows."""
    # Sorted explicitly, because PostgreSQL's jsonb does not keep the key order of the counts.
    counts = job.counts
    verdicts = ", ".join(f"{verdict} {count}" for verdict, count in sorted(counts["verdicts"].items()))
    lines = [f"Items: {counts['items']} ({verdicts})"]
    for kind in job.manifest["kinds"]:
        lines.append(f"{kind} rows: {counts['rows'][kind]} ({counts['duplicates_removed'][kind]} duplicates removed)")
    lines.append(f"Identical pairs dropped: {counts['dpo_pairs_dropped_identical']}")
    lines.append(f"Trivial edits flagged: {counts['trivial_edits']}")
    redacted = ", ".join(f"{kind} {count}" for kind, count in sorted(counts["redacted"].items()))
    lines.append(f"Redacted: {redacted}")
    lines.append(f"Items skipped as invalid: {counts['items_skipped_invalid']}")
    lines.append(f"Rows left out as invalid: {counts['rows_invalid']}")
    return lines
