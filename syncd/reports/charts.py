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

# A narrow canvas with large type: on a 390 px phone the chart is drawn at about 0.7 of these
# units, so 15-unit text still reads at about 10 px.
WIDTH, HEIGHT = 480, 300
LEFT, RIGHT, BOTTOM = 52, 8, 30
FONT = 15
CHAR = Decimal("8.5")  # a generous average glyph width at FONT, to keep labels apart
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


def _text(x: Decimal | int, y: Decimal | int, body: str, *, anchor: str = "middle") -> str:
    return (
        f'<text x="{_n(Decimal(x))}" y="{_n(Decimal(y))}" text-anchor="{anchor}" font-size="{FONT}" '
        f'fill="#333333">{escape(body)}</text>'
    )


def tick(value: Decimal) -> str:
    """An axis label, short (``2.5k``, ``1M``); the marks and the table carry the exact figures."""
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1000), "k")):
        if abs(value) >= size:
            return f"{(value / size).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def _legend_rows(chart: ChartData) -> list[list[tuple[int, str, Decimal]]]:
    """The legend's entries (series index, name, x), wrapped into rows that fit the width."""
    rows: list[list[tuple[int, str, Decimal]]] = []
    if len(chart.series) < 2:
        return rows
    x = Decimal(WIDTH + 1)
    for s, (name, _values) in enumerate(chart.series):
        width = 22 + CHAR * len(name)
        if x + width > WIDTH - RIGHT:
            rows.append([])
            x = Decimal(LEFT)
        rows[-1].append((s, name, x))
        x += width + 10
    return rows


def render(chart: ChartData) -> Markup:
    """The chart as an inline ``<svg>`` element."""
    ident = f"chart-{next(_ids)}"
    top = nice_ceiling(_peak(chart))
    legend = _legend_rows(chart)
    head = 16 + 22 * len(legend)
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - head - BOTTOM)
    base = Decimal(head) + plot_h
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
        parts.append(_text(LEFT - 6, y + 5, tick(value), anchor="end"))
    # Only as many category labels as fit side by side; every mark still has its own <title>.
    longest = max((len(label) for label in chart.labels), default=1)
    fit = max(1, int(plot_w / (CHAR * longest + 12)))
    every = max(1, -(-len(chart.labels) // fit))
    for i, label in enumerate(chart.labels):
        if i % every == 0:
            x = Decimal(LEFT) + slot_w * i + slot_w / 2
            parts.append(_text(x, base + 20, label))
    parts.extend(_marks(chart, slot_w, y_of, base))
    for row, entries in enumerate(legend):
        for s, name, left in entries:
            line = 6 + 22 * row
            parts.append(
                f'<rect x="{_n(left)}" y="{line}" width="14" height="14" fill="{PALETTE[s % len(PALETTE)]}"/>'
            )
            parts.append(_text(left + 18, line + 12, name, anchor="start"))
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
