import pytest

from reviews.metrics import cohen_kappa, krippendorff_alpha, rewrite_agreement, word_similarity

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# four observers code twelve units on a 1..5 scale, None where an observer
# gave no value. The paper reports alpha 0.743 (nominal) and 0.849 (interval).
# Unit 12 has one value, so it is not pairable.
_ = None
OBSERVER_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _]
OBSERVER_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3]
OBSERVER_C = [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _]
OBSERVER_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _]
KRIPPENDORFF_UNITS = list(zip(OBSERVER_A, OBSERVER_B, OBSERVER_C, OBSERVER_D))


def test_kappa_two_by_two_table():
    # Rater A \ rater B   yes  no   total
    #   yes                20   5     25
    #   no                 10  15     25
    #   total              30  20     50
    # p_o = (20 + 15) / 50 = 0.7
    # p_e = (25 * 30 + 25 * 20) / 50^2 = (750 + 500) / 2500 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15

    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_kappa_three_labels():
    # Rater A \ rater B   approved  needs_fix  rejected  total
    #   approved              4         1          0        5
    #   needs_fix             0         2          1        3
    #   rejected              0         0          2        2
    #   total                 4         3          3       10
    # p_o = (4 + 2 + 2) / 10 = 0.8
    # p_e = (5 * 4 + 3 * 3 + 2 * 3) / 10^2 = (20 + 9 + 6) / 100 = 0.35
    # kappa = (0.8 - 0.35) / (1 - 0.35) = 0.45 / 0.65 = 9 / 13
    pairs = (
        [("approved", "approved")] * 4 + [("approved", "needs_fix")]
        + [("needs_fix", "needs_fix")] * 2 + [("needs_fix", "rejected")]
        + [("rejected", "rejected")] * 2
    )

    assert cohen_kappa(pairs) == pytest.approx(9 / 13)


def test_kappa_perfect_agreement_is_one():
    assert cohen_kappa([(True, True), (False, False), (True, True)]) == pytest.approx(1.0)


def test_kappa_systematic_disagreement_is_negative():
    # p_o = 0; p_e = (1 * 1 + 1 * 1) / 2^2 = 0.5; kappa = (0 - 0.5) / 0.5 = -1
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)


def test_kappa_single_shared_label_is_undefined():
    # Both raters gave "approved" every time: p_e = 1, so kappa divides by 0.
    assert cohen_kappa([("approved", "approved")] * 3) is None


def test_kappa_no_pairs_is_undefined():
    assert cohen_kappa([]) is None


def test_alpha_krippendorff_example_nominal():
    assert round(krippendorff_alpha(KRIPPENDORFF_UNITS, level="nominal"), 3) == 0.743


def test_alpha_krippendorff_example_interval():
    assert round(krippendorff_alpha(KRIPPENDORFF_UNITS, level="interval"), 3) == 0.849


def test_alpha_nominal_small_table():
    # Units (values by three raters, None missing):
    #   u1: a a a     m=3, ordered pairs of unequal values 0
    #   u2: a b -     m=2, unequal ordered pairs 2, weight 1/(2-1) -> 2
    #   u3: b b b     m=3, 0
    #   u4: a -  -    m=1, not pairable
    # Pairable values n = 8: a x4, b x4.
    # D_o = (0 + 2 + 0) / 8 = 0.25
    # D_e = (n^2 - sum n_c^2) / (n (n - 1)) = (64 - 16 - 16) / 56 = 32 / 56
    # alpha = 1 - 0.25 / (32 / 56) = 1 - 14 / 32 = 0.5625
    units = [("a", "a", "a"), ("a", "b", None), ("b", "b", "b"), ("a", None, None)]

    assert krippendorff_alpha(units) == pytest.approx(0.5625)


def test_alpha_interval_small_table():
    # Units of two raters on a 1..5 scale: (1, 2), (4, 4), (5, 3). n = 6.
    # Within units, ordered pairs: (1-2)^2 * 2 = 2, 0, (5-3)^2 * 2 = 8; weight 1/(2-1).
    # D_o = (2 + 0 + 8) / 6 = 10 / 6
    # Pooled values 1, 2, 4, 4, 5, 3: sum 19, sum of squares 71.
    # sum over ordered pairs (x_i - x_j)^2 = 2 * 6 * 71 - 2 * 19^2 = 852 - 722 = 130
    # D_e = 130 / (6 * 5) = 130 / 30
    # alpha = 1 - (10 / 6) / (130 / 30) = 1 - 50 / 130 = 8 / 13
    units = [(1, 2), (4, 4), (5, 3)]

    assert krippendorff_alpha(units, level="interval") == pytest.approx(8 / 13)


def test_alpha_two_raters_nominal_matches_hand_count():
    # The kappa table above as alpha units: 10 units, n = 20 values.
    # Unequal units: (approved, needs_fix), (needs_fix, rejected), each 2 ordered pairs -> D_o = 4 / 20 = 0.2
    # Value counts: approved 9, needs_fix 6, rejected 5 -> sum n_c^2 = 81 + 36 + 25 = 142
    # D_e = (400 - 142) / (20 * 19) = 258 / 380
    # alpha = 1 - 0.2 * 380 / 258 = 1 - 76 / 258 = 182 / 258
    units = (
        [("approved", "approved")] * 4 + [("approved", "needs_fix")]
        + [("needs_fix", "needs_fix")] * 2 + [("needs_fix", "rejected")]
        + [("rejected", "rejected")] * 2
    )

    assert krippendorff_alpha(units) == pytest.approx(182 / 258)


def test_alpha_without_variation_is_undefined():
    assert krippendorff_alpha([(1, 1), (1, 1, 1)]) is None


def test_alpha_without_pairable_units_is_undefined():
    assert krippendorff_alpha([(1, None), (None, None), ()]) is None


def test_alpha_unknown_level_raises():
    with pytest.raises(ValueError, match="Invalid level 'ordinal'"):
        krippendorff_alpha([(1, 2)], level="ordinal")


def test_word_similarity_counts_matching_words():
    # Words: "reset the router now" (4) and "reset the modem now" (4).
    # Matching blocks: "reset the" (2) and "now" (1): M = 3, T = 8, ratio = 2 * 3 / 8 = 0.75.
    assert word_similarity("reset the router now", "reset the modem now") == pytest.approx(0.75)


def test_word_similarity_ignores_whitespace_layout():
    assert word_similarity("reset  the\nrouter", "reset the router") == pytest.approx(1.0)


def test_word_similarity_ignores_case_counts_punctuation():
    # Tokens: "reset the router ." (4) and "reset the router" (3): M = 3, T = 7, ratio = 6 / 7.
    assert word_similarity("Reset the router.", "reset the router") == pytest.approx(6 / 7)


def test_word_similarity_disjoint_is_zero():
    assert word_similarity("yes", "no") == pytest.approx(0.0)


def test_word_similarity_two_empty_texts_match():
    assert word_similarity("", "  ") == pytest.approx(1.0)


def test_rewrite_agreement_mean_over_pairs():
    # Item 1: one pair, similarity 0.75 (see above).
    # Item 2: three rewrites "a b", "a b", "c d": pairs 1.0, 0.0, 0.0.
    # Item 3: a single rewrite, no pair.
    # Mean over the four pairs: (0.75 + 1 + 0 + 0) / 4 = 0.4375
    groups = [
        ["reset the router now", "reset the modem now"],
        ["a b", "a b", "c d"],
        ["only one"],
    ]

    assert rewrite_agreement(groups) == pytest.approx(0.4375)


def test_rewrite_agreement_without_pairs_is_undefined():
    assert rewrite_agreement([["only one"], []]) is None
