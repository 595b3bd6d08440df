import zipfile
import zlib

import pytest

from exports.archive import DeflatedMember, zip_write


def _deflated(tmp_path, name: str, data: bytes) -> DeflatedMember:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    path = tmp_path / f"{name}.deflate"
    path.write_bytes(compressor.compress(data) + compressor.flush())
    return DeflatedMember(name=name, deflated_path=path, size=len(data), crc32=zlib.crc32(data))


def test_zip_holds_deflated_and_plain_members(tmp_path):
    sft = b'{"prompt":"Hi"}\n' * 1000
    readme = tmp_path / "README.md"
    readme.write_text("# Bundle\n")

    zip_write(tmp_path / "bundle.zip", deflated=[_deflated(tmp_path, "sft.jsonl", sft)],
              files=[("README.md", readme)])

    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["sft.jsonl", "README.md"]
        assert archive.read("sft.jsonl") == sft
        assert archive.read("README.md") == b"# Bundle\n"


def test_zip_members_have_fixed_time_and_mode(tmp_path):
    zip_write(tmp_path / "bundle.zip", deflated=[_deflated(tmp_path, "dpo.jsonl", b"{}\n")], files=[])

    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        info = archive.getinfo("dpo.jsonl")

    assert info.date_time == (1980, 1, 1, 0, 0, 0)
    assert info.external_attr >> 16 == 0o100644
    assert info.compress_type == zipfile.ZIP_DEFLATED


def test_zip_detects_wrong_crc(tmp_path):
    member = _deflated(tmp_path, "sft.jsonl", b'{"a":1}\n')
    wrong = DeflatedMember(name=member.name, deflated_path=member.deflated_path, size=member.size,
                           crc32=member.crc32 ^ 1)

    zip_write(tmp_path / "bundle.zip", deflated=[wrong], files=[])

    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive, pytest.raises(zipfile.BadZipFile, match="CRC"):
        archive.read("sft.jsonl")

