"""Bar charts drawn on the server: numbers in, SVG geometry out, no script in the page.

A template draws the rectangles this computes (`templates/_admin_chart.html`) and prints
the numbers beside them, so the chart reads without images and with a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 300
HEIGHT = 100
GAP = 1


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(title: str, points: list[tuple[str, int]]) -> Chart:
    """Bars for `points` (label, value) across WIDTH, the highest reaching HEIGHT."""
    peak = max((v for _, v in points), default=0)
    slot = WIDTH / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        height = HEIGHT * value / peak if peak else 0.0
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(i * slot, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(slot - GAP, 1), 2),
                height=round(height, 2),
            )
        )
    return Chart(title=title, bars=tuple(bars), total=sum(v for _, v in points), peak=peak)
