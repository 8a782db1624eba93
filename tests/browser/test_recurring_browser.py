"""Cancelling a recurring service in real Chromium on a 390 px phone: the account page lists it with
its next invoice dates, Cancel leads to a confirmation page that fits the screen, confirming makes
the QBO template inactive."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from books_loop import books_loop, open_invoices
from loop_harness import Loop
from playwright.sync_api import BrowserContext, expect

from syncd.stages.recurring import refresh

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with books_loop(
        tmp_path_factory.mktemp("recurring"), invoices=4, recurring={"allow_cancel": True}
    ) as running:
        yield running


def test_cancel_a_recurring_service_on_a_phone(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = open_invoices(loop)[0].customer_id
    today = loop.ctx.clock().date()
    template = loop.qbo.add_recurring(
        customer, Decimal("45.00"), start=today + timedelta(days=20), name="Alarm monitoring"
    )
    refresh(loop.ctx, loop.realm, force=True)  # the hourly read already ran when the loop started
    invoice = open_invoices(loop)[0].qbo_id
    page = browser_context_factory().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto(f"{loop.ctx.links.url(loop.realm, invoice)}/account")
        section = page.get_by_test_id("recurring")
        expect(section).to_contain_text("Alarm monitoring")
        expect(section).to_contain_text("Next invoices")
        expect(section).to_contain_text("Monthly")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        section.screenshot(path=str(screenshots / "account.png"))
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_role("heading", name="Cancel this service?")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
        page.screenshot(path=str(screenshots / "confirm.png"), full_page=True)
        page.get_by_test_id("recurring-confirm").click()
        expect(page.get_by_role("status")).to_contain_text("The service is cancelled")
        loop.drain()
        row = loop.qbo.entity("RecurringTransaction", template)
        assert row is not None and row["RecurringInfo"]["Active"] is False
        page.reload()
        expect(page.get_by_test_id("recurring-state")).to_have_text("Cancelled")
    except Exception:
        page.screenshot(path=str(screenshots / "failed.png"), full_page=True)
        raise
