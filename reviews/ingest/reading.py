"""Rows of a JSON Lines file or a JSON array file, optionally gzip-compressed.

A file whose first non-blank character is ``[`` is one JSON array, and its
rows are located as ``index N`` (counting from 0). Any other file is JSON
Lines: one object per line, located as ``line N`` (counting from 1), with
blank lines skipped. Gzip is recognised by its magic bytes, not by the file
name. JSON Lines files are streamed, so memory stays flat however long the
file is.

NOTE: a JSON array is parsed whole, so it needs memory for all of its rows;
convert very large arrays to JSON Lines.
"""

import gzip
import itertools
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import json_type

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


class FileError(Exception):
    """The file as a whole cannot be read; no row of it can be located."""


@dataclass(frozen=True)
class SourceRow:
    """One row of the file: its ``location``, and either its object ``value`` or the ``error`` that rejects it."""

    location: str
    value: dict | None = None
    error: str = ""


class NonFiniteNumber(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # Python's json module accepts NaN and Infinity, but JSON does not and PostgreSQL cannot store them.
    raise NonFiniteNumber(f"{name} is not a JSON value; write null or a number")


def json_parse(text: str) -> Any:
    """Parse strict JSON text, rejecting NaN and Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


def rows_read(path: Path) -> Iterator[SourceRow]:
    """Yield every row of the file at ``path``; raise FileError when the file cannot be read at all."""
    if not path.is_file():
        raise FileError(f"File {str(path)!r} not found; check the path.")
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw
        try:
            yield from _rows(stream)
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise FileError(f"File {str(path)!r} is not a valid gzip file ({error}); compress it again.") from None


def _rows(stream: BinaryIO) -> Iterator[SourceRow]:
    lines = iter(stream)
    head = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    if b"".join(head).removeprefix(UTF8_BOM).lstrip()[:1] == b"[":
        yield from _array_rows(b"".join(head) + stream.read())
    else:
        yield from _line_rows(itertools.chain(head, lines))


def _array_rows(data: bytes) -> Iterator[SourceRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError(f"The file is not valid UTF-8 (byte {error.start}); save it as UTF-8.") from None
    try:
        values = json_parse(text)
    except json.JSONDecodeError as error:
        raise FileError(
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}. "
            "A file that starts with '[' is read as one JSON array; fix the JSON or write JSON Lines."
        ) from None
    except NonFiniteNumber as error:
        raise FileError(f"Invalid JSON: {error}.") from None
    for index, value in enumerate(values):
        yield _object_row(f"index {index}", value)


def _line_rows(lines: Iterable[bytes]) -> Iterator[SourceRow]:
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(UTF8_BOM)
        if not line.strip():
            continue
        location = f"line {number}"
        try:
            value = json_parse(line.decode("utf-8").rstrip("\r\n"))
        except UnicodeDecodeError as error:
            reason = f"not valid UTF-8 (byte {error.start} of the line); save the file as UTF-8"
            yield SourceRow(location, error=reason)
        except json.JSONDecodeError as error:
            reason = f"invalid JSON at column {error.pos + 1}: {error.msg}; each line must contain one JSON object"
            yield SourceRow(location, error=reason)
        except NonFiniteNumber as error:
            yield SourceRow(location, error=f"invalid JSON: {error}")
        else:
            yield _object_row(location, value)


def _object_row(location: str, value: Any) -> SourceRow:
    if not isinstance(value, dict):
        return SourceRow(location, error=f"expected a JSON object, got {json_type(value)}")
    return SourceRow(location, value=value)
