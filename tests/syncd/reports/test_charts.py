"""The SVG charts: exactly the report's numbers (parsed back out of the SVG), labels escaped,
accessible, scaled by a viewBox, nothing the CSP forbids (no script, no style)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from report_app import parse_svg

from syncd.reports.charts import nice_ceiling, render, tick
from syncd.reports.common import ChartData

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


def marks(svg: str) -> list[tuple[str, str, Decimal]]:
    root = parse_svg(svg)
    return [
        (e.attrib["data-label"], e.attrib["data-series"], Decimal(e.attrib["data-value"]))
        for e in root.iter()
        if "data-value" in e.attrib
    ]


@pytest.mark.parametrize("kind", ["bar", "stacked", "line"])
def test_every_number_is_in_the_svg_exactly(kind: str) -> None:
    chart = ChartData(
        "Collected (USD)",
        ("2026-02-02", "2026-02-09", "2026-02-16"),
        (("card", (D("85.00"), D("0"), D("12.345"))), ("bank_debit", (D("25.10"), D("1000000.01"), D("0")))),
        kind=kind,
    )
    svg = str(render(chart))
    root = parse_svg(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img" and root.attrib["width"] == "100%"
    assert root.attrib["viewBox"] == "0 0 480 300"
    assert root.find(f"{SVG}title").text == "Collected (USD)"  # type: ignore[union-attr]
    expected = [
        (label, name, v)
        for name, values in chart.series
        for label, v in zip(chart.labels, values, strict=True)
    ]
    assert sorted(marks(svg)) == sorted(expected)
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")
        assert "style" not in element.attrib and not any(a.startswith("on") for a in element.attrib)


def test_stacked_bars_stack_and_scale() -> None:
    chart = ChartData("t", ("a",), (("x", (D("30"),)), ("y", (D("10"),))), kind="stacked")
    root = parse_svg(str(render(chart)))
    bars = {e.attrib["data-series"]: e for e in root.iter(f"{SVG}rect") if "data-series" in e.attrib}
    x_top, x_height = D(bars["x"].attrib["y"]), D(bars["x"].attrib["height"])
    y_top, y_height = D(bars["y"].attrib["y"]), D(bars["y"].attrib["height"])
    assert x_height == 3 * y_height  # 30 and 10
    assert y_top + y_height == x_top  # y sits on x
    gridlines = sorted({D(e.attrib["y1"]) for e in root.iter(f"{SVG}line")})
    base, axis_top = gridlines[-1], gridlines[0]
    assert x_top + x_height == base
    assert (base - y_top) / (base - axis_top) == D("0.8")  # 40 on an axis to 50


def test_ticks_are_short() -> None:
    assert [tick(D(v)) for v in ("0", "12.5", "2500", "1000000", "2000000")] == [
        "0",
        "12.5",
        "2.5k",
        "1M",
        "2M",
    ]


def test_labels_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    chart = ChartData(hostile, (hostile,), ((hostile, (D("1"),)), ("b", (D("2"),))))
    svg = str(render(chart))
    assert "<script>" not in svg
    root = parse_svg(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == hostile  # type: ignore[union-attr]
    assert {e.attrib.get("data-label") for e in root.iter() if "data-label" in e.attrib} == {hostile}


def test_nice_ceiling() -> None:
    assert [nice_ceiling(D(v)) for v in ("0", "0.3", "1", "1.2", "3", "7", "85", "1000000.01")] == [
        1,
        D("0.5"),
        1,
        2,
        5,
        10,
        100,
        D("2000000"),
    ]


def test_series_must_match_labels() -> None:
    with pytest.raises(ValueError, match="2 values for 1 labels"):
        ChartData("t", ("a",), (("x", (D(1), D(2))),))
