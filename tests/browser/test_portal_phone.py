"""The payment page on a phone, in a real Chromium: what is owed, when, and the Pay button on the
first screen; the line items after, none of them clipped, from 320 px up."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page

from syncd.demo import DemoHandle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}  # iPhone 12-15
SMALLEST = {"width": 320, "height": 640}
LONG_LINE = (
    "Quarterly monitoring of 14 intrusion sensors, 3 smoke detectors and the cellular backup "
    "communicator at 1200 Industrial Parkway"
)

MEASURE = """() => {
  const width = window.innerWidth;
  const cells = [...document.querySelectorAll('table.lines th, table.lines td')].map((c) => {
    const r = c.getBoundingClientRect();
    const card = c.closest('.card');
    const style = getComputedStyle(card);
    // The card's content box: a cell past it runs over the card's padding and border.
    const edge = card.getBoundingClientRect().right
      - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
    return {text: c.textContent.trim(), left: r.left, right: r.right, edge,
            clipped: c.scrollWidth > c.clientWidth + 1};
  });
  // Boxes that hide part of their content sideways (the screen-reader-only caption is meant to).
  const scrollers = [...document.querySelectorAll('main *:not(.visually-hidden)')]
    .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
    .map((e) => e.className || e.tagName);
  const pay = document.querySelector('form.pay button');
  const box = pay ? pay.getBoundingClientRect() : null;
  return {width, scrollWidth: document.documentElement.scrollWidth, cells, scrollers,
          pay: box && {top: box.top, bottom: box.bottom}};
}"""


def _wait_for_page(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while requests.get(url, timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} was never published")
        time.sleep(0.2)


def _busiest_open_invoice(demo: DemoHandle) -> str:
    """The open invoice with the most lines: the widest table the demo has."""
    invoices = [i for i in demo.qbo.entities("Invoice") if Decimal(str(i.get("Balance", 0))) > 0]
    busiest = max(invoices, key=lambda i: len(i.get("Line", [])))
    return demo.ctx.links.url(demo.qbo.realm_id, str(busiest["Id"]))


def _long_invoice(demo: DemoHandle) -> str:
    """A seven-figure invoice with a long line: the case that clipped "Amou" and "$1,001."."""
    customer = str(demo.qbo.entities("Customer")[0]["Id"])
    invoice_id = demo.qbo.add_invoice(customer, Decimal("1001234.56"), description=LONG_LINE)
    return demo.ctx.links.url(demo.qbo.realm_id, invoice_id)


def _check(page: Page, shot: Path, *, pay_on_first_screen: bool) -> dict[str, Any]:
    page.screenshot(path=str(shot), full_page=True)
    m: dict[str, Any] = page.evaluate(MEASURE)
    where = f"(screenshot {shot})"
    assert m["scrollWidth"] <= m["width"], (
        f"the page scrolls sideways: {m['scrollWidth']} > {m['width']} {where}"
    )
    assert m["scrollers"] == [], f"clipped inside a scrolling box: {m['scrollers']} {where}"
    assert m["cells"], "the page shows its line items"
    for cell in m["cells"]:
        assert cell["left"] >= 0 and cell["right"] <= m["width"], f"cell off screen: {cell} {where}"
        assert cell["right"] <= cell["edge"] + 0.5, f"cell runs out of its card: {cell} {where}"
        assert not cell["clipped"], f"cell text clipped: {cell} {where}"
    if pay_on_first_screen:
        assert m["pay"] is not None, f"no Pay button {where}"
        assert m["pay"]["bottom"] <= page.viewport_size["height"], (
            f"Pay is below the fold: {m['pay']} {where}"
        )  # type: ignore[index]
    return m


@pytest.mark.parametrize("which", ["busiest", "long"])
def test_portal_fits_a_phone(
    demo: DemoHandle,
    browser_context_factory: Callable[[], BrowserContext],
    screenshots: Path,
    which: str,
) -> None:
    url = _busiest_open_invoice(demo) if which == "busiest" else _long_invoice(demo)
    _wait_for_page(url)
    context = browser_context_factory()
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(url)
    m = _check(page, screenshots / f"{which}-390.png", pay_on_first_screen=True)
    # What is owed and when come before the button, the line items after it.
    order = page.evaluate(
        """() => ['.amount-due', '.due', 'form.pay button', 'table.lines'].map(
             (s) => document.querySelector(s)?.getBoundingClientRect().top ?? -1)"""
    )
    assert -1 not in order and order == sorted(order), order
    assert m["pay"]["top"] >= 0
    page.set_viewport_size(SMALLEST)
    page.reload()
    _check(page, screenshots / f"{which}-320.png", pay_on_first_screen=False)
