import pytest

from reviews.rewrites import rewrite_distance, rewrite_tokens


def test_tokens_split_words_and_punctuation():
    assert rewrite_tokens("Check the cable, then restart.") == ["check", "the", "cable", ",", "then", "restart", "."]


def test_distance_of_equal_texts_is_zero():
    assert rewrite_distance("Restart the router.", "restart  the router .") == 0.0


def test_distance_of_disjoint_texts_is_one():
    assert rewrite_distance("Restart the router", "Call support") == 1.0


def test_distance_of_two_empty_texts_is_zero():
    assert rewrite_distance("", "") == 0.0


def test_distance_counts_matching_words():
    # Tokens: [restart, the, router] and [restart, the, modem]: 2 of 3 match,
    # so the ratio is 2 * 2 / (3 + 3) = 2/3 and the distance 1/3.
    assert rewrite_distance("Restart the router", "Restart the modem") == pytest.approx(1 / 3)
