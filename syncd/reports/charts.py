"""Server-side SVG charts (bar, stacked bar, line) for the report pages: no script, no CDN, only
presentation attributes (the CSP allows no inline style), scaled by a viewBox to any width.

Every mark carries its exact figure in ``data-value`` and a ``<title>`` (the tooltip and what a
screen reader reads); the page shows the same numbers in a table under the chart."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from syncd.reports.common import ZERO, ChartData

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 40, 64
# Distinguishable for the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
_CENT = Decimal("0.01")
_ids = itertools.count(1)


def _n(value: Decimal) -> str:
    """A coordinate: two decimals at most, no exponent."""
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_UP).normalize():f}"


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(1).scaleb(value.adjusted())
    for step in (1, 2, 5, 10):
        if power * step >= value:
            return power * step
    return power * 10  # pragma: no cover - 10 x power is always enough


def _peak(chart: ChartData) -> Decimal:
    if chart.kind == "stacked":
        sums = [sum((max(v[i], ZERO) for _, v in chart.series), ZERO) for i in range(len(chart.labels))]
        return max(sums, default=ZERO)
    return max((max(v, default=ZERO) for _, v in chart.series), default=ZERO)


def _text(x: Decimal | int, y: Decimal | int, body: str, *, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{_n(Decimal(x))}" y="{_n(Decimal(y))}" text-anchor="{anchor}" font-size="12" '
        f'fill="#333333"{extra}>{escape(body)}</text>'
    )


def render(chart: ChartData) -> Markup:
    """The chart as an inline ``<svg>`` element."""
    ident = f"chart-{next(_ids)}"
    top = nice_ceiling(_peak(chart))
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)
    base = Decimal(TOP) + plot_h
    slots = max(len(chart.labels), 1)
    slot_w = plot_w / slots

    def y_of(value: Decimal) -> Decimal:
        return base - plot_h * max(value, ZERO) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" aria-labelledby="{ident}-t" '
        f'data-kind="{escape(chart.kind)}">',
        f'<title id="{ident}-t">{escape(chart.title)}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for step in range(5):  # the value axis: five gridlines from 0 to the top
        value = top * step / 4
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" stroke="#dddddd"/>')
        parts.append(_text(LEFT - 6, y + 4, f"{value.normalize():f}", anchor="end"))
    every = max(1, -(-len(chart.labels) // 8))  # at most eight category labels: readable at 390 px
    for i, label in enumerate(chart.labels):
        if i % every == 0:
            x = Decimal(LEFT) + slot_w * i + slot_w / 2
            parts.append(_text(x, base + 18, label))
    parts.extend(_marks(chart, slot_w, y_of, base))
    parts.extend(_legend(chart))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and title above was escaped


def _mark_title(label: str, series: str, value: Decimal) -> str:
    return f"<title>{escape(label)} · {escape(series)}: {escape(str(value))}</title>"


def _marks(chart: ChartData, slot_w: Decimal, y_of: Callable[[Decimal], Decimal], base: Decimal) -> list[str]:
    out: list[str] = []
    count = len(chart.series)
    if chart.kind == "line":
        for s, (name, values) in enumerate(chart.series):
            colour = PALETTE[s % len(PALETTE)]
            points = [(Decimal(LEFT) + slot_w * i + slot_w / 2, y_of(v)) for i, v in enumerate(values)]
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in points)}"/>'
            )
            for (x, y), label, value in zip(points, chart.labels, values, strict=True):
                out.append(
                    f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{colour}" data-series="{escape(name)}" '
                    f'data-label="{escape(label)}" data-value="{escape(str(value))}">'
                    f"{_mark_title(label, name, value)}</circle>"
                )
        return out
    inner = slot_w * Decimal("0.7")
    for i, label in enumerate(chart.labels):
        x0 = Decimal(LEFT) + slot_w * i + (slot_w - inner) / 2
        stacked = ZERO
        for s, (name, values) in enumerate(chart.series):
            value = values[i]
            colour = PALETTE[s % len(PALETTE)]
            if chart.kind == "stacked":
                y_top, y_bottom, x, w = y_of(stacked + value), y_of(stacked), x0, inner
                stacked += max(value, ZERO)
            else:
                w = inner / count
                x, y_top, y_bottom = x0 + w * s, y_of(value), base
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y_top)}" width="{_n(w)}" height="{_n(y_bottom - y_top)}" '
                f'fill="{colour}" data-series="{escape(name)}" data-label="{escape(label)}" '
                f'data-value="{escape(str(value))}">{_mark_title(label, name, value)}</rect>'
            )
    return out


def _legend(chart: ChartData) -> list[str]:
    if len(chart.series) < 2:
        return []
    out = []
    x = Decimal(LEFT)
    for s, (name, _values) in enumerate(chart.series):
        colour = PALETTE[s % len(PALETTE)]
        out.append(f'<rect x="{_n(x)}" y="12" width="12" height="12" fill="{colour}"/>')
        out.append(_text(x + 16, 22, name, anchor="start"))
        x += 24 + 7 * len(name)
    return out
