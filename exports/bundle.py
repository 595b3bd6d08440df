"""Writing an export bundle: JSONL data files, provenance, manifest, dataset card, zip.

Each reviewed example goes through the same steps: optional PII redaction,
every requested writer, our validator, removal of exact duplicates, and the
train/validation split. Rows are deflated into files in a working directory
as they arrive, and the digests that find duplicates go to a SQLite file
there, so memory does not grow with the export. ``BundleWriter.finish`` then
writes ``manifest.json`` and ``README.md`` and packs everything into one zip
in the same directory. The caller moves that zip into storage.

The data files, the provenance file and the card depend only on the
selected reviews and the options, never on the time or the job, so the
same data gives byte-identical files. The zip members carry a fixed time.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviews.models import Review

from .card import PROVENANCE_PATH, dataset_card, features_fit
from .examples import ReviewedExample
from .formats import ExportFormat, FileWriter, Row
from .archive import DeflatedMember, zip_write
from .digests import DigestStore
from .jsonl import Compressor, JsonlFile, LineEncodingError, file_sha256, row_encode
from .manifest import SCHEMA_VERSION
from .options import ExportOptions
from .redaction import PII_KINDS, Redactor
from .splits import SPLITS, split_of
from .validation import RowChecker, line_problems

PROVENANCE_FORMAT = "bookbag.provenance"
# The manifest lists at most this many skipped items and invalid rows each; the counts are always complete.
MAX_LISTED = 1000


@dataclass(frozen=True)
class BuiltBundle:
    """A finished zip in the working directory, with its hash and manifest."""

    path: Path
    sha256: str
    manifest: dict[str, Any]


def data_file_path(kind: str, split: str, *, split_files: bool) -> str:
    """Return ``sft.jsonl`` without a split, or ``sft.train.jsonl`` / ``sft.validation.jsonl`` with one."""
    return f"{kind}.{split}.jsonl" if split_files else f"{kind}.jsonl"


class BundleWriter:
    """Collect rows for the requested kinds, then finish them into a zip."""

    def __init__(self, *, directory: Path, export_format: ExportFormat, kinds: list[str],
                 options: ExportOptions) -> None:
        self.directory = directory
        self.export_format = export_format
        self.options = options
        self.writers: list[FileWriter] = [export_format.writers[kind] for kind in kinds]
        self.splits = SPLITS if options.validation_ratio else SPLITS[:1]
        self.compressor = Compressor()
        self.data_files = {
            (writer.kind, split): JsonlFile(
                directory=directory, file_format=writer.file_format, kind=writer.kind, split=split,
                path=data_file_path(writer.kind, split, split_files=len(self.splits) > 1), compressor=self.compressor,
            )
            for writer in self.writers for split in self.splits
        }
        self.features_fit = {writer.kind: writer.features is not None for writer in self.writers}
        self.provenance = JsonlFile(
            directory=directory, path=PROVENANCE_PATH, file_format=PROVENANCE_FORMAT, compressor=self.compressor
        )
        self.redactor = Redactor() if options.redact_pii else None
        self.seen = DigestStore(directory / "digests.sqlite3")
        self.checker = RowChecker(tool_arguments=options.tool_arguments)
        self.counts = _empty_counts(self.writers)
        self.verdicts: Counter[str] = Counter({verdict: 0 for verdict in Review.Verdict.values})
        self.rubric_versions: set[str] = set()
        self.skipped: list[dict[str, Any]] = []
        self.invalid_rows: list[dict[str, Any]] = []

    def add(self, example: ReviewedExample) -> None:
        """Write the rows of ``example`` for every requested kind, with one provenance line per row."""
        self._count(example.verdict, f"{example.provenance['rubric_slug']}@{example.provenance['rubric_version']}")
        if self.redactor is not None:
            example = self.redactor.example(example)
        if example.trivial_edit:
            self.counts["trivial_edits"] += 1
        if example.pair_is_identical and any(writer.drops_identical_pairs for writer in self.writers):
            self.counts["dpo_pairs_dropped_identical"] += 1

        ratio = self.options.validation_ratio
        # Without a validation split every row is a training row, and the conversation key is never hashed.
        split = split_of(example.conversation_key, ratio=ratio) if ratio else SPLITS[0]
        # Every writer runs before any row is checked, so no writer can change a message that the checker
        # has already passed in a row of another file.
        rows = [(writer, row) for writer in self.writers for row in writer.rows(example, self.options.tool_arguments)]
        self.checker.item_start()
        for writer, row in rows:
            self._row_add(writer, row, example=example, split=split)

    def _row_add(self, writer: FileWriter, row: Row, *, example: ReviewedExample, split: str) -> None:
        data_file = self.data_files[(writer.kind, split)]
        problems = self.checker.problems(row, layout=writer.layout)
        try:
            line, digest = row_encode(row)
        except LineEncodingError as error:
            problems.append(str(error))
        else:
            problems += line_problems(line)
        if problems:
            self._invalid(data_file.path, example, "; ".join(problems))
            return

        if not self.seen.add(writer.kind, digest):
            self.counts["duplicates_removed"][writer.kind] += 1
            return

        number = data_file.write_line(line)
        if self.features_fit[writer.kind]:
            self.features_fit[writer.kind] = features_fit(row, writer.features)
        self.provenance.write({
            "file": data_file.path, "line": number, "split": split, "example_id": example.example_id,
            **example.provenance, "trivial_edit": example.trivial_edit,
        })

    def _invalid(self, path: str, example: ReviewedExample, reason: str) -> None:
        self.counts["rows_invalid"] += 1
        if len(self.invalid_rows) < MAX_LISTED:
            self.invalid_rows.append(
                {"file": path, "example_id": example.example_id, "item_id": example.item_id, "reason": reason}
            )

    def skip(self, *, item_id: int, verdict: str, rubric_version: str, reason: str) -> None:
        """Count an item whose messages no format can carry; the first ones are listed in the manifest."""
        self._count(verdict, rubric_version)
        self.counts["items_skipped_invalid"] += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append({"item_id": item_id, "reason": reason})

    def _count(self, verdict: str, rubric_version: str) -> None:
        self.verdicts[verdict] += 1
        self.rubric_versions.add(rubric_version)

    def finish(self, *, header: dict[str, Any]) -> BuiltBundle:
        """Close the files, write the manifest and card, and pack the zip.

        ``header`` contains the job's own fields (bundle id, time, filters,
        kind, format, parent bundle) and leads the manifest.
        """
        jsonl_files = [*self.data_files.values(), self.provenance]
        files = [jsonl_file.close() for jsonl_file in jsonl_files]
        self.seen.close()
        manifest = {"schema_version": SCHEMA_VERSION, **header, **self._summary(files), "files": files}
        card = dataset_card(
            export_format=self.export_format, writers=self.writers, files=files, counts=manifest["counts"],
            options=self.options, features_fit_by_kind=self.features_fit,
        )
        card_bytes = card.encode("utf-8")
        (self.directory / "README.md").write_bytes(card_bytes)
        manifest["card"] = {
            "path": "README.md", "bytes": len(card_bytes), "sha256": hashlib.sha256(card_bytes).hexdigest(),
        }
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

        path = self.directory / "bundle.zip"
        deflated = [
            DeflatedMember(name=jsonl_file.path, deflated_path=jsonl_file.deflated_path, size=jsonl_file.size,
                           crc32=jsonl_file.crc32)
            for jsonl_file in jsonl_files
        ]
        zip_write(path, deflated=deflated,
                  files=[(name, self.directory / name) for name in ("README.md", "manifest.json")])
        return BuiltBundle(path=path, sha256=file_sha256(path), manifest=manifest)

    def _summary(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        split_rows = {writer.kind: {split: 0 for split in self.splits} for writer in self.writers}
        for entry in files:
            if "kind" in entry:
                split_rows[entry["kind"]][entry["split"]] = entry["rows"]
        return {
            "kinds": [writer.kind for writer in self.writers],
            "tool_arguments": self.options.tool_arguments,
            "rubric_versions": sorted(self.rubric_versions),
            "split": {"validation_ratio": self.options.validation_ratio, "rows": split_rows},
            "redact_pii": self.options.redact_pii,
            "counts": self.summary_counts(),
            "skipped_items": self.skipped,
            "invalid_rows": self.invalid_rows,
        }

    def summary_counts(self) -> dict[str, Any]:
        rows = Counter()
        for (kind, _split), data_file in self.data_files.items():
            rows[kind] += data_file.rows
        redacted = dict(self.redactor.counts) if self.redactor else {kind: 0 for kind in PII_KINDS}
        return {
            "items": sum(self.verdicts.values()),
            "verdicts": dict(sorted(self.verdicts.items())),
            "rows": {writer.kind: rows[writer.kind] for writer in self.writers},
            **self.counts,
            "duplicates_removed": dict(self.counts["duplicates_removed"]),
            "redacted": redacted,
        }

    def close(self) -> None:
        """Stop the compressor and close any file still open, after a failure part-way through."""
        self.compressor.shutdown()
        self.seen.close()
        for jsonl_file in [*self.data_files.values(), self.provenance]:
            jsonl_file.handle.close()


def _empty_counts(writers: list[FileWriter]) -> dict[str, Any]:
    return {
        "duplicates_removed": Counter({writer.kind: 0 for writer in writers}),
        "dpo_pairs_dropped_identical": 0,
        "trivial_edits": 0,
        "rows_invalid": 0,
        "items_skipped_invalid": 0,
    }

