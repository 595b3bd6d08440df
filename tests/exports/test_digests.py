import random

from exports.digests import DigestStore


def test_add_tells_new_from_seen(tmp_path):
    digests = DigestStore(tmp_path / "digests.sqlite3")

    assert digests.add("sft", 42) is True
    assert digests.add("sft", 42) is False


def test_kinds_keep_separate_digests(tmp_path):
    digests = DigestStore(tmp_path / "digests.sqlite3")

    assert digests.add("sft", 42) is True
    assert digests.add("dpo", 42) is True


def test_extreme_digests_fit(tmp_path):
    digests = DigestStore(tmp_path / "digests.sqlite3")

    for value in (0, 2**63 - 1, 2**63, 2**64 - 1):
        assert digests.add("sft", value) is True
        assert digests.add("sft", value) is False


def test_many_digests_keep_every_value(tmp_path):
    generator = random.Random(7)
    values = list(dict.fromkeys(generator.getrandbits(64) for _ in range(20_000)))
    digests = DigestStore(tmp_path / "digests.sqlite3")

    assert all(digests.add("sft", value) for value in values)
    assert not any(digests.add("sft", value) for value in values)
    digests.close()
