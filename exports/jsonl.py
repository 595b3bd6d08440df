"""JSON Lines data files as a bundle writes them: one encoding, hashed when closed."""

import hashlib
import json
from pathlib import Path
from typing import IO, Any

HASH_BLOCK_SIZE = 1024 * 1024
# Python's str.splitlines() also breaks lines at these characters, which json.dumps leaves as they are
# when ensure_ascii is off, so they are escaped to keep one object per line for every reader.
LINE_SEPARATORS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def jsonl_line(row: Any) -> str:
    """Encode ``row`` as one line of JSON, without the line end, keys in the row's own order."""
    line = json.dumps(row, ensure_ascii=False)
    for character, escape in LINE_SEPARATORS.items():
        line = line.replace(character, escape)
    return line


def row_digest(row: dict[str, Any]) -> bytes:
    """Return a digest of ``row`` without its ``meta_`` columns: equal digests mean the same training row."""
    content = {key: value for key, value in row.items() if not key.startswith("meta_")}
    return hashlib.blake2b(json.dumps(content, sort_keys=True).encode("ascii"), digest_size=16).digest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


class JsonlFile:
    """One JSONL file being written: UTF-8 without BOM, ``\\n`` line ends, one object per line."""

    def __init__(self, *, directory: Path, path: str, file_format: str, **labels: Any) -> None:
        self.path = path
        self.file_format = file_format
        # Extra manifest fields of this file, such as its kind and split.
        self.labels = labels
        self.location = directory / path
        self.location.parent.mkdir(parents=True, exist_ok=True)
        self.handle: IO[str] = self.location.open("w", encoding="utf-8", newline="\n")
        self.rows = 0

    def write_line(self, line: str) -> int:
        """Append an encoded ``line`` and return its line number, counting from 1."""
        self.handle.write(line + "\n")
        self.rows += 1
        return self.rows

    def write(self, row: dict[str, Any]) -> int:
        return self.write_line(jsonl_line(row))

    def close(self) -> dict[str, Any]:
        """Close the file and return its manifest entry."""
        self.handle.close()
        return {
            "path": self.path,
            "format": self.file_format,
            **self.labels,
            "rows": self.rows,
            "bytes": self.location.stat().st_size,
            "sha256": file_sha256(self.location),
        }
