"""Agreement statistics between reviewers: Cohen's kappa, Krippendorff's alpha and rewrite agreement.

Pure functions over plain Python values, so that the dashboard, exports and
tests share one definition. Each returns None where the statistic is
undefined (no pairable data, or no variation to measure agreement against)
instead of a misleading 0 or 1. Alpha uses Krippendorff's
coincidence-matrix form, written out in ``krippendorff_alpha``.
"""

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from itertools import combinations
from typing import Literal

from .rewrites import rewrite_distance

Level = Literal["nominal", "interval"]


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float | None:
    """Return Cohen's kappa for two raters, given one ``(first rater, second rater)`` label pair per unit.

    kappa = (p_o - p_e) / (1 - p_e), where p_o is the share of units with
    equal labels and p_e the agreement expected from each rater's own label
    frequencies. Returns None for no units, or when p_e is 1 (both raters
    gave every unit the same single label, so chance explains everything).
    """
    pairs = list(pairs)
    if not pairs:
        return None
    count = len(pairs)
    first = Counter(label for label, _ in pairs)
    second = Counter(label for _, label in pairs)

    observed = sum(1 for a, b in pairs if a == b) / count
    expected = sum(first[label] * second[label] for label in first) / (count * count)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def _squared_differences_sum(values: Sequence, level: Level) -> float:
    """Return the sum of delta squared over every ordered pair (i, j), i != j, of ``values``."""
    if level == "nominal":
        # Ordered pairs of different values: all n^2 pairs minus those within each value.
        return len(values) ** 2 - sum(size * size for size in Counter(values).values())
    total = sum(values)
    squares = sum(value * value for value in values)
    # sum over i, j of (x_i - x_j)^2 = 2n * sum(x^2) - 2 * (sum x)^2; the i == j terms are 0.
    return 2 * len(values) * squares - 2 * total * total


def krippendorff_alpha(units: Iterable[Sequence], *, level: Level = "nominal") -> float | None:
    """Return Krippendorff's alpha over ``units``, each the values its raters gave, None for a missing value.

    Any number of raters per unit. Units with fewer than two values are not
    pairable and are left out, as in Krippendorff's definition. ``level`` is
    ``nominal`` (delta is 0 for equal values, else 1) or ``interval`` (delta
    squared is the squared difference of numbers).

    alpha = 1 - D_o / D_e. D_o averages delta squared over the ordered value
    pairs within each unit, each unit's pairs weighted 1 / (m_u - 1). D_e
    averages it over all ordered pairs of the pairable values. Returns None
    when no unit is pairable, or when D_e is 0 because every value is the
    same.
    """
    if level not in ("nominal", "interval"):
        raise ValueError(f"Invalid level {level!r}; use 'nominal' or 'interval'.")
    pairable = []
    for unit in units:
        values = [value for value in unit if value is not None]
        if len(values) >= 2:
            pairable.append(values)
    pooled = [value for values in pairable for value in values]
    count = len(pooled)
    if count < 2:
        return None

    observed = sum(_squared_differences_sum(values, level) / (len(values) - 1) for values in pairable) / count
    expected = _squared_differences_sum(pooled, level) / (count * (count - 1))
    if expected == 0:
        return None
    return 1 - observed / expected


def word_similarity(first: str, second: str) -> float:
    """Return the similarity of two texts word by word, from 0 (nothing shared) to 1 (the same words).

    It is 1 minus ``rewrite_distance``, the measure that sends disagreeing
    rewrites to adjudication, so the dashboard and settling agree: difflib's
    2 * M / T over lower-cased word and punctuation tokens. Two empty texts
    are the same (1.0).
    """
    return 1.0 - rewrite_distance(first, second)


def rewrite_agreement(rewrite_groups: Iterable[Sequence[str]]) -> float | None:
    """Return the mean word similarity over every pair of rewrites of the same item.

    Each group contains the rewrites that different reviewers wrote for one
    item. Every pair counts once, so an item with three rewrites adds three
    pairs. Returns None when no group has two rewrites.
    """
    similarities = [
        word_similarity(first, second)
        for group in rewrite_groups
        for first, second in combinations(group, 2)
    ]
    if not similarities:
        return None
    return sum(similarities) / len(similarities)
