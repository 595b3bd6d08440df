"""Geometry of the dashboard's inline SVG charts: bars and stacked bars as shares of their width.

The templates in ``templates/dashboard/`` draw these with percentage
coordinates, so a chart stretches to its column and needs no script.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


def _percent(share: float) -> str:
    # Fixed notation with a dot, whatever the active locale, because SVG attributes are not localised.
    return f"{share * 100:.3f}%"


@dataclass(frozen=True)
class Bar:
    """A value drawn as a bar whose length is ``share`` (0 to 1) of the chart's width or height."""

    value: float | None
    share: float

    @property
    def length(self) -> str:
        return _percent(self.share)


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: ``count`` items, starting at ``offset`` and ``share`` wide (both 0 to 1).

    ``detail`` is an optional note that the legend and the tooltip show after the count.
    """

    key: str
    label: str
    count: int
    share: float
    offset: float
    detail: str = ""

    @property
    def x(self) -> str:
        return _percent(self.offset)

    @property
    def width(self) -> str:
        return _percent(self.share)

    @property
    def percent_label(self) -> str:
        return f"{self.share * 100:.0f}%"


@dataclass(frozen=True)
class StackedBar:
    segments: list[Segment]
    total: int


def stacked_bar(
    counts: dict[str, int], labels: dict[str, str], details: dict[str, str] | None = None
) -> StackedBar:
    """Lay ``counts`` end to end in the order of ``labels``. Every segment of an empty bar has width 0."""
    total = sum(counts.values())
    details = details or {}
    segments, offset = [], 0.0
    for key, label in labels.items():
        share = counts.get(key, 0) / total if total else 0.0
        segments.append(Segment(
            key=key, label=label, count=counts.get(key, 0), share=share, offset=offset, detail=details.get(key, ""),
        ))
        offset += share
    return StackedBar(segments=segments, total=total)


def bars_scale(values: Iterable[float]) -> Callable[[float | None], Bar]:
    """Return a function that draws a value as a bar scaled to the maximum of ``values`` (the longest bar is full)."""
    maximum = max(values, default=0) or 0

    def scale(value: float | None) -> Bar:
        share = (value or 0) / maximum if maximum > 0 else 0.0
        return Bar(value=value, share=share)

    return scale


# A column chart is a band of this many pixels for the value labels, above the bars' area.
COLUMN_LABEL_PX = 10
COLUMN_AREA_PX = 36


@dataclass(frozen=True)
class Column:
    """One bar of a column chart: ``bar`` drawn in slot ``index`` of ``slots`` equal slots, labelled ``label``."""

    bar: Bar
    index: int
    slots: int
    label: str

    @property
    def x(self) -> str:
        # A tenth of each slot stays empty, so neighbouring bars do not touch.
        return _percent((self.index + 0.05) / self.slots)

    @property
    def width(self) -> str:
        return _percent(0.9 / self.slots)

    @property
    def center(self) -> str:
        return _percent((self.index + 0.5) / self.slots)

    @property
    def top_px(self) -> str:
        return f"{COLUMN_LABEL_PX + (1 - self.bar.share) * COLUMN_AREA_PX:.1f}"

    @property
    def height_px(self) -> str:
        return f"{self.bar.share * COLUMN_AREA_PX:.1f}"


def columns(bars: list[Bar], labels: list[str]) -> list[Column]:
    """Place ``bars`` side by side in equal slots, each with its label."""
    return [Column(bar=bar, index=index, slots=len(bars), label=label) for index, (bar, label) in enumerate(zip(bars, labels))]
