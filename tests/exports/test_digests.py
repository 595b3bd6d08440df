import random

from exports.digests import DigestSet


def test_add_tells_new_from_seen():
    digests = DigestSet()

    assert digests.add(42) is True
    assert digests.add(42) is False
    assert len(digests) == 1


def test_zero_is_a_value_like_any_other():
    digests = DigestSet()

    assert digests.add(0) is True
    assert digests.add(0) is False
    assert digests.add(2**64 - 1) is True
    assert len(digests) == 2


def test_colliding_slots_keep_every_value():
    digests = DigestSet()
    same_slot = [n << 40 for n in range(1, 50)]

    assert all(digests.add(value) for value in same_slot)
    assert not any(digests.add(value) for value in same_slot)


def test_growth_keeps_every_value():
    generator = random.Random(7)
    values = list(dict.fromkeys(generator.getrandbits(64) | 1 for _ in range(50_000)))
    digests = DigestSet()

    added = [digests.add(value) for value in values]

    assert all(added)
    assert len(digests) == len(values)
    assert len(digests.slots) == 2**17
    assert not any(digests.add(value) for value in values)
