"""Every report page in a real Chromium, on a phone (390 px) and a desktop: the SVG chart renders
and fits the screen, nothing breaks the CSP, and the numbers on the page are the CSV's."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from loopback import free_port, wait_until
from playwright.sync_api import BrowserContext
from report_app import PATH, report_app, seed

from syncd.reports.run import NAMES
from syncd.store.engine import Database
from syncd.store.migrate import upgrade

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

READ = """() => ({
  width: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  charts: [...document.querySelectorAll('svg.chart')].map((s) => {
    const r = s.getBoundingClientRect();
    return {left: r.left, right: r.right, height: r.height, marks: s.querySelectorAll('[data-value]').length};
  }),
  rows: [...document.querySelectorAll('table.figures tbody tr')].map(
    (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
})"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("reports") / "s.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    seed(db)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(report_app(db), host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="the report app to listen")
    try:
        yield f"http://127.0.0.1:{port}{PATH}"
    finally:
        server.should_exit = True
        thread.join(10)
        db.dispose()


@pytest.mark.parametrize("size", SIZES)
def test_every_report_renders_its_chart_with_the_csv_numbers(
    browser_context_factory: Callable[[], BrowserContext], base_url: str, size: str
) -> None:
    context = browser_context_factory()
    page = context.new_page()
    page.set_viewport_size(SIZES[size])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for name in NAMES:
        answer = page.goto(f"{base_url}/{name}")
        assert answer is not None and answer.status == 200
        page.locator("svg.chart").first.wait_for(state="visible")
        seen = page.evaluate(READ)
        expected = list(
            csv.reader(io.StringIO(requests.get(f"{base_url}/{name}?format=csv", timeout=10).text))
        )
        assert seen["rows"] == expected[1:], name
        assert seen["charts"] and all(c["marks"] > 0 and c["height"] > 50 for c in seen["charts"]), name
        for chart in seen["charts"]:  # the chart fits the screen: no sideways scrolling to read it
            assert chart["left"] >= 0 and chart["right"] <= seen["width"], (name, chart)
        assert seen["scrollWidth"] <= seen["width"], f"{name} scrolls sideways at {size}"
    assert not problems, problems  # a CSP violation is reported on the console
