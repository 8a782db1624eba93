"""Every report page inside the real console in Chromium, on a phone (390 px) and a desktop: reached
from the company nav after signing in, the SVG chart renders and fits the screen, nothing breaks
the CSP, the numbers in the table are the CSV link's, every figure a chart draws is one of them, and
the company switcher opens the same report of the other company."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation

import pytest
from playwright.sync_api import BrowserContext
from report_app import NOW, seed
from report_rows import REALM
from staff_console import PASSWORD, B, Clock, add_person, cheap_hashing, console_context

from connectors.serving import ThreadedServer
from syncd.domain.staff import StaffRole
from syncd.reports.run import NAMES
from syncd.web.app import create_app

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

READ = """() => ({
  width: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  charts: [...document.querySelectorAll('svg.chart')].map((s) => {
    const r = s.getBoundingClientRect();
    return {left: r.left, right: r.right, height: r.height,
            values: [...s.querySelectorAll('[data-value]')].map((m) => m.getAttribute('data-value'))};
  }),
  rows: [...document.querySelectorAll('table.figures tbody tr')].map(
    (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
  csv: document.querySelector('a.csv').href,
  switcher: !!document.querySelector('#company-switch'),
})"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    patch = pytest.MonkeyPatch()
    cheap_hashing(patch)
    companies = [{"realm_id": REALM}, {"realm_id": B}]
    contexts = console_context(tmp_path_factory.mktemp("reports"), Clock(NOW), companies=companies)
    ctx = next(contexts)
    seed(ctx.db)
    add_person(ctx, "books@firm.test", {REALM: StaffRole.BOOKKEEPER, B: StaffRole.READ_ONLY})
    with ThreadedServer(create_app(ctx)) as server:
        yield server.url
    contexts.close()
    patch.undo()


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@pytest.mark.parametrize("size", SIZES)
def test_every_report_renders_its_chart_with_the_csv_numbers(
    browser_context_factory: Callable[[], BrowserContext], base_url: str, size: str
) -> None:
    context = browser_context_factory()
    page = context.new_page()
    page.set_viewport_size(SIZES[size])  # type: ignore[arg-type]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base_url}/staff/sign-in")
    page.fill("#email", "books@firm.test")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/staff")
    page.goto(f"{base_url}/staff/c/{REALM}")
    for name in NAMES:
        page.locator(f"nav.reports a[href='/staff/c/{REALM}/reports/{name}']").click()  # the company nav
        page.wait_for_url(f"{base_url}/staff/c/{REALM}/reports/{name}")
        page.locator("svg.chart").first.wait_for(state="visible")
        assert page.locator("nav.reports a[aria-current=page]").get_attribute("href", timeout=2000) == (
            f"/staff/c/{REALM}/reports/{name}"
        )
        seen = page.evaluate(READ)
        assert seen["switcher"], f"{name}: the console's company switcher is on the page"
        download = context.request.get(seen["csv"])  # the CSV link, with the page's session
        assert download.ok, (name, download.status)
        expected = list(csv.reader(io.StringIO(download.text())))
        assert seen["rows"] == expected[1:], name
        figures = {n for row in expected[1:] for cell in row if (n := _number(cell)) is not None}
        assert seen["charts"], name
        for chart in seen["charts"]:
            assert chart["values"] and chart["height"] > 50, name
            drawn = {Decimal(v) for v in chart["values"]}
            assert drawn <= figures, (name, sorted(drawn - figures))  # every mark is a CSV figure
            # The chart fits the screen: no sideways scrolling to read it.
            assert chart["left"] >= 0 and chart["right"] <= seen["width"], (name, chart)
        assert seen["scrollWidth"] <= seen["width"], f"{name} scrolls sideways at {size}"
    # The switcher on a report page opens the same report of the other company.
    page.select_option("#company-switch", B)
    page.click(".switch button")
    page.wait_for_url(f"{base_url}/staff/c/{B}/reports/{NAMES[-1]}")
    page.locator("svg.chart").first.wait_for(state="visible")
    assert not problems, problems  # a CSP violation is reported on the console
