"""Small SVG chart primitives: a plotting frame with scales, axes, gridlines and a legend."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

TEXT_COLOUR = "#3c4858"
GRID_COLOUR = "#e5e9f0"
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high."""
    if high <= low:
        high = low + 1
    raw_step = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def date_ticks(first: date, last: date, count: int = 6) -> list[date]:
    """Return about `count` evenly spaced dates from `first` to `last`."""
    span = (last - first).days
    if span <= 0:
        return [first]
    step = max(1, math.ceil(span / count))
    return [date.fromordinal(first.toordinal() + offset) for offset in range(0, span + 1, step)]


def format_number(value: float) -> str:
    """Format a tick or a value without a useless decimal part."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


@dataclass
class Frame:
    """A plotting area inside an SVG, mapping data coordinates to pixels."""

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    width: int = 560
    height: int = 300
    left: int = 56
    right: int = 20
    top: int = 36
    bottom: int = 48

    def x(self, value: float) -> float:
        span = (self.x_max - self.x_min) or 1
        return self.left + (value - self.x_min) / span * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        span = (self.y_max - self.y_min) or 1
        plot_height = self.height - self.top - self.bottom
        return self.top + plot_height - (value - self.y_min) / span * plot_height

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom

    def open(self, label: str) -> str:
        """Start the SVG element; `label` is its accessible name."""
        return (
            f'<svg class="chart" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {self.width} {self.height}" width="100%" {FONT}>'
        )

    def y_axis(self, ticks: list[float], label: str) -> str:
        """Draw horizontal gridlines with tick labels and the rotated axis title."""
        parts = []
        for tick in ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{GRID_COLOUR}"/>'
                f'<text x="{self.left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                f'fill="{TEXT_COLOUR}">{format_number(tick)}</text>'
            )
        middle = (self.top + self.plot_bottom) / 2
        parts.append(
            f'<text transform="translate(14 {middle:.1f}) rotate(-90)" text-anchor="middle" '
            f'font-size="12" fill="{TEXT_COLOUR}">{escape(label)}</text>'
        )
        return "".join(parts)

    def x_axis(self, ticks: Sequence[tuple[float, str]], label: str) -> str:
        """Draw the baseline, tick marks with labels and the axis title."""
        bottom = self.plot_bottom
        parts = [
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{bottom}" '
            f'y2="{bottom}" stroke="{TEXT_COLOUR}" stroke-width="1"/>'
        ]
        for value, text in ticks:
            x = self.x(value)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" '
                f'stroke="{TEXT_COLOUR}"/>'
                f'<text x="{x:.1f}" y="{bottom + 17}" text-anchor="middle" font-size="11" '
                f'fill="{TEXT_COLOUR}">{escape(text)}</text>'
            )
        centre = (self.left + self.width - self.right) / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{self.height - 8}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(label)}</text>'
        )
        return "".join(parts)

    def legend(self, entries: list[tuple[str, str]]) -> str:
        """Draw colour swatches with labels in a row above the plot, right-aligned."""
        parts = []
        x = float(self.width - self.right)
        for label, colour in reversed(entries):
            text_width = 7 * len(label)
            x -= text_width
            parts.append(
                f'<text x="{x:.1f}" y="18" font-size="12" fill="{TEXT_COLOUR}">'
                f"{escape(label)}</text>"
            )
            x -= 18
            parts.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" rx="2" fill="{colour}"/>')
            x -= 14
        return "".join(parts)

    def empty(self, message: str) -> str:
        """Draw a centred message for a chart without data."""
        return (
            f'<text x="{self.width / 2}" y="{self.height / 2}" text-anchor="middle" '
            f'font-size="14" fill="#8492a6">{escape(message)}</text>'
        )
