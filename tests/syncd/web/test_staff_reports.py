"""The report page: HTML with the SVG charts and the table, the same figures as CSV and JSON,
one-line 400s for unreadable parameters, 404 for an unknown report, the CSP kept."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from report_app import NOW, PATH, parse_svg, report_app, seed
from report_rows import REALM
from starlette.exceptions import StarletteDeprecationWarning

from syncd.config import parse
from syncd.context import Context
from syncd.errors import ConfigError
from syncd.reports.run import NAMES
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.migrate import upgrade
from syncd.web.staff_reports import ReportDesk
from syncd.web.templating import Templating

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One seeded SQLite store for the module: the pages only read (the reports' own tests run on
    both databases)."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('reports') / 's.db'}")
    upgrade(db)
    seed(db)
    with TestClient(report_app(db)) as c:
        yield c
    db.dispose()


class Cells(HTMLParser):
    """The text of every ``<td>`` of the figures table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self.rows[-1].append("")
        self._in = tag == "td"

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.rows[-1][-1] += data


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, flags=re.S)


@pytest.mark.parametrize("name", NAMES)
def test_page_csv_and_json_carry_the_same_figures(client: TestClient, name: str) -> None:
    page = client.get(f"{PATH}/{name}")
    assert page.status_code == 200, page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and "style=" not in html
    listed = client.get(f"{PATH}/{name}?format=csv")
    assert listed.headers["content-type"].startswith("text/csv")
    assert f'filename="{name}-' in listed.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(listed.text)))
    parser = Cells()
    parser.feed(html)
    assert [r for r in parser.rows if r] == rows[1:]
    data = client.get(f"{PATH}/{name}?format=json").json()
    assert [list(r.values()) for r in data["rows"]] == rows[1:]
    assert data["columns"] == rows[0]
    assert 'href="?format=csv"' in html and 'href="?format=json"' in html
    charts = svgs(html)
    assert charts, "every seeded report draws at least one chart"
    for svg in charts:
        parse_svg(svg)  # well-formed


def test_aging_chart_numbers_are_the_total_row(client: TestClient) -> None:
    html = client.get(f"{PATH}/aging").text
    rows = list(csv.DictReader(io.StringIO(client.get(f"{PATH}/aging?format=csv").text)))
    usd = next(r for r in rows if r["customer"] == "TOTAL" and r["currency"] == "USD")
    svg = next(s for s in svgs(html) if "(USD)" in s)
    values = [Decimal(v) for v in re.findall(r'data-value="([^"]+)"', svg)]
    assert values == [Decimal(usd[b]) for b in ("current", "1-30", "31-60", "61-90", "90+")]
    assert "Café &lt;Ünïcode&gt; &amp; Co" in html


def test_parameters(client: TestClient) -> None:
    as_of = client.get(f"{PATH}/aging?format=json&as_of=2026-02-01").json()
    assert as_of["as_of"] == "2026-02-01"
    assert client.get(f"{PATH}/aging?format=json").json()["as_of"] == "2026-03-02"  # New York's today
    monthly = client.get(f"{PATH}/collections?format=json&by=month&from=2026-02-01").json()
    assert monthly["by"] == "month" and monthly["rows"][0]["period"] == "2026-02-01"
    html = client.get(f"{PATH}/collections?by=month&from=2026-02-01").text
    assert 'href="?by=month&amp;from=2026-02-01&amp;format=csv"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=yesterday", "as_of: not a date, use YYYY-MM-DD"),
        ("from=2026-13-01", "from: not a date, use YYYY-MM-DD"),
        ("by=day", "by: week or month"),
        ("format=xml", "format: one of html, csv, json"),
        ("from=2026-04-01&as_of=2026-03-01", "the first day is after the as-of day"),
    ],
)
def test_unreadable_parameters_are_one_line_400s(client: TestClient, query: str, message: str) -> None:
    answer = client.get(f"{PATH}/collections?{query}")
    assert (answer.status_code, answer.text) == (400, message)


def test_unknown_report_is_404(client: TestClient) -> None:
    answer = client.get(f"{PATH}/secrets")
    assert answer.status_code == 404 and "one of aging" in answer.text


def test_stylesheet_is_same_origin(client: TestClient) -> None:
    html = client.get(f"{PATH}/dso").text
    assert '<link rel="stylesheet" href="?format=css">' in html
    css = client.get(f"{PATH}/dso?format=css")
    assert css.headers["content-type"].startswith("text/css") and "figure.chart" in css.text


def test_the_desk_of_a_context_reads_the_configured_zone(tmp_path: Path) -> None:
    settings = parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 's.db'}"},
            "company": [{"realm_id": REALM, "timezone": "Europe/Berlin"}],
        }
    )
    ctx = cast(Context, SimpleNamespace(settings=settings, db=None, clock=lambda: NOW))
    desk = ReportDesk.of(ctx, Templating(None))
    assert desk.timezone_of(REALM) == "Europe/Berlin" and desk.clock() == NOW
    with pytest.raises(ConfigError, match="no company 'other' is configured"):
        desk.timezone_of("other")
