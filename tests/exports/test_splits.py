import hashlib

from exports.splits import split_bucket, split_of


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_bucket_reads_first_six_bytes():
    assert split_bucket("0" * 64) == 0.0
    assert split_bucket("8" + "0" * 63) == 0.5
    assert split_bucket("f" * 64) < 1.0


def test_no_ratio_keeps_everything_in_train():
    assert {split_of(_key(str(number)), ratio=0.0) for number in range(200)} == {"train"}


def test_share_in_validation_follows_ratio():
    sides = [split_of(_key(str(number)), ratio=0.2) for number in range(2000)]

    assert 0.17 < sides.count("validation") / len(sides) < 0.23


def test_raising_ratio_only_moves_rows_to_validation():
    keys = [_key(str(number)) for number in range(500)]
    low = {key for key in keys if split_of(key, ratio=0.1) == "validation"}
    high = {key for key in keys if split_of(key, ratio=0.3) == "validation"}

    assert low < high
