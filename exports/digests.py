"""The row digests that a bundle keeps to drop exact duplicates, in a SQLite file beside the bundle.

Keeping a digest per row in memory makes an export's memory grow with its
size: a Python set takes about 100 bytes a row, a million rows 100 MB.
The digests go into a table in the build's working directory instead,
whose page cache is capped, so memory stays flat however many rows the
export writes. Each check is one ``INSERT OR IGNORE`` on the primary key.
"""

import sqlite3
from pathlib import Path

# SQLite's page cache for the table, in KiB (a negative cache_size is KiB).
CACHE_KIB = 4096


class DigestStore:
    """The 64-bit digests of the rows written so far, per data file kind."""

    def __init__(self, path: Path) -> None:
        # The file only lives as long as the build, so it needs no journal and no syncing.
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = OFF")
        self.connection.execute("PRAGMA synchronous = OFF")
        self.connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.connection.execute(
            "CREATE TABLE digest (kind TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID"
        )
        self.connection.execute("BEGIN")

    def add(self, kind: str, digest: int) -> bool:
        """Record ``digest`` (0 to 2**64 - 1) for ``kind``; return False when it was recorded before."""
        # SQLite integers are signed 64-bit, so the digest is shifted into that range.
        cursor = self.connection.execute("INSERT OR IGNORE INTO digest VALUES (?, ?)", (kind, digest - 2**63))
        return cursor.rowcount == 1

    def close(self) -> None:
        self.connection.close()
