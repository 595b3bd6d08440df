"""The bundle's zip container, with members that were deflated while they were written.

``zipfile`` can only compress a member itself, so a member whose raw
deflate data already exists is added the way ``zipfile`` adds any member:
its local header, then its data, then its entry in the central directory,
which ``ZipFile.close`` writes. ZIP64 headers are used where a size needs
them, as ``zipfile`` does.
"""

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Zip members get a fixed timestamp so that the same data gives the same member bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# Regular file, readable by everyone once unzipped (rw-r--r--).
MEMBER_ATTRIBUTES = 0o100644 << 16
COPY_BLOCK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class DeflatedMember:
    """A member's raw deflate data in a file, with the size and CRC-32 of the data before compression."""

    name: str
    deflated_path: Path
    size: int
    crc32: int


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = MEMBER_ATTRIBUTES
    return info


def zip_write(path: Path, *, deflated: list[DeflatedMember], files: list[tuple[str, Path]]) -> None:
    """Write the zip at ``path``: the ``deflated`` members in order, then ``files`` (name, path), compressed here."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in deflated:
            _deflated_add(archive, member)
        for name, source in files:
            with source.open("rb") as handle, archive.open(_member_info(name), "w") as target:
                shutil.copyfileobj(handle, target, COPY_BLOCK_SIZE)


def _deflated_add(archive: zipfile.ZipFile, member: DeflatedMember) -> None:
    info = _member_info(member.name)
    info.file_size = member.size
    info.compress_size = member.deflated_path.stat().st_size
    info.CRC = member.crc32
    zip64 = max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT

    # The same steps as ZipFile.open(..., "w") and its writer's close, minus the compression.
    # NOTE: these are ZipFile's private members, as in CPython 3.11; tests/exports/test_archive.py checks them.
    archive.fp.seek(archive.start_dir)
    info.header_offset = archive.fp.tell()
    archive._writecheck(info)
    archive._didModify = True
    archive.fp.write(info.FileHeader(zip64))
    with member.deflated_path.open("rb") as source:
        shutil.copyfileobj(source, archive.fp, COPY_BLOCK_SIZE)
    archive.start_dir = archive.fp.tell()
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info
