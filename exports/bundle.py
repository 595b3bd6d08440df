"""Writing an export bundle: JSONL data files, provenance, manifest, dataset card, zip.

Rows are written to files in a working directory as they arrive, so memory
does not grow with the export. ``BundleWriter.finish`` then hashes the files,
writes ``manifest.json`` and ``README.md`` and packs everything into one zip
in the same directory. The caller moves that zip into storage.
"""

import hashlib
import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from reviews.models import Review

from .card import PROVENANCE_PATH, dataset_card
from .examples import ReviewedExample
from .formats import ExportFormat

SCHEMA_VERSION = 1
DATA_FILE_NAMES = {"sft": "sft.jsonl", "dpo": "dpo.jsonl"}
PROVENANCE_FORMAT = "bookbag.provenance"
MAX_SKIPPED_LISTED = 100
# Zip members get a fixed timestamp so that the same data gives the same member bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
HASH_BLOCK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class BuiltBundle:
    """A finished zip in the working directory, with its hash and manifest."""

    path: Path
    sha256: str
    manifest: dict[str, Any]


class _JsonlFile:
    """One JSONL file being written: UTF-8 without BOM, ``\\n`` line ends, one object per line."""

    def __init__(self, *, directory: Path, path: str, file_format: str) -> None:
        self.path = path
        self.file_format = file_format
        self.location = directory / path
        self.location.parent.mkdir(parents=True, exist_ok=True)
        self.handle: IO[str] = self.location.open("w", encoding="utf-8", newline="\n")
        self.rows = 0

    def write(self, row: dict[str, Any]) -> int:
        """Append ``row`` and return its line number, counting from 1."""
        self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows += 1
        return self.rows

    def close(self) -> dict[str, Any]:
        """Close the file and return its manifest entry."""
        self.handle.close()
        return {
            "path": self.path,
            "format": self.file_format,
            "rows": self.rows,
            "bytes": self.location.stat().st_size,
            "sha256": file_sha256(self.location),
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


class BundleWriter:
    """Collect rows for the requested kinds, then finish them into a zip."""

    def __init__(self, *, directory: Path, export_format: ExportFormat, kinds: list[str]) -> None:
        self.directory = directory
        self.export_format = export_format
        formats = {"sft": export_format.sft_format, "dpo": export_format.dpo_format}
        self.data_files = {
            kind: _JsonlFile(directory=directory, path=DATA_FILE_NAMES[kind], file_format=formats[kind])
            for kind in kinds
        }
        self.provenance = _JsonlFile(directory=directory, path=PROVENANCE_PATH, file_format=PROVENANCE_FORMAT)
        self.verdicts: Counter[str] = Counter({verdict: 0 for verdict in Review.Verdict.values})
        self.rubric_versions: set[str] = set()
        self.pairs_dropped_identical = 0
        self.skipped: list[dict[str, Any]] = []
        self.skipped_count = 0

    def add(self, example: ReviewedExample) -> None:
        """Write the rows of ``example`` for every requested kind, with one provenance line per row."""
        self._count(example.verdict, f"{example.provenance['rubric_slug']}@{example.provenance['rubric_version']}")
        writers = {"sft": self.export_format.sft_rows, "dpo": self.export_format.dpo_rows}
        for kind, data_file in self.data_files.items():
            for row in writers[kind](example):
                line = data_file.write(row)
                self.provenance.write(
                    {"file": data_file.path, "line": line, "example_id": example.example_id, **example.provenance}
                )
        if "dpo" in self.data_files and example.pair_is_identical:
            self.pairs_dropped_identical += 1

    def skip(self, *, item_id: int, verdict: str, rubric_version: str, reason: str) -> None:
        """Count an item whose messages no format can carry; the first ones are listed in the manifest."""
        self._count(verdict, rubric_version)
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"item_id": item_id, "reason": reason})

    def _count(self, verdict: str, rubric_version: str) -> None:
        self.verdicts[verdict] += 1
        self.rubric_versions.add(rubric_version)

    def finish(self, *, header: dict[str, Any]) -> BuiltBundle:
        """Close the files, write the manifest and card, and pack the zip.

        ``header`` contains the job's own fields (ids, time, filters, kind, format)
        and leads the manifest.
        """
        files = [data_file.close() for data_file in self.data_files.values()]
        files.append(self.provenance.close())
        manifest = {
            "schema_version": SCHEMA_VERSION,
            **header,
            "counts": self.counts(),
            "rubric_versions": sorted(self.rubric_versions),
            "tool_arguments": self.export_format.tool_arguments,
            "skipped_items": self.skipped,
            "files": files,
        }
        card = dataset_card(export_format=self.export_format, files=files, counts=manifest["counts"])
        (self.directory / "README.md").write_text(card, encoding="utf-8")
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

        members = [entry["path"] for entry in files] + ["README.md", "manifest.json"]
        path = self.directory / "bundle.zip"
        _zip_write(path, directory=self.directory, members=members)
        return BuiltBundle(path=path, sha256=file_sha256(path), manifest=manifest)

    def counts(self) -> dict[str, Any]:
        return {
            "items": sum(self.verdicts.values()),
            "verdicts": dict(sorted(self.verdicts.items())),
            "rows": {kind: data_file.rows for kind, data_file in self.data_files.items()},
            "dpo_pairs_dropped_identical": self.pairs_dropped_identical,
            "items_skipped_invalid": self.skipped_count,
        }

    def close(self) -> None:
        """Close any file still open, after a failure part-way through."""
        for data_file in [*self.data_files.values(), self.provenance]:
            data_file.handle.close()


def _zip_write(path: Path, *, directory: Path, members: list[str]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            info = zipfile.ZipInfo(member, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with (directory / member).open("rb") as source, archive.open(info, "w") as target:
                while block := source.read(HASH_BLOCK_SIZE):
                    target.write(block)
