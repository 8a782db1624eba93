"""The collector pages on a phone (390 px) in a real Chromium: the list, an account, a promise and
a check recorded, nothing wider than the screen, under the real CSP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from collect_app import ANA, SignedIn, collect_app, overdue_account
from loop_harness import running_loop
from playwright.sync_api import BrowserContext
from sqlalchemy import select

from connectors.serving import ThreadedServer
from syncd.store.models import OfflinePayment

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDEST = "() => document.documentElement.scrollWidth"


def test_a_collector_records_a_promise_and_a_check_on_a_phone(
    tmp_path: Path, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    with running_loop(tmp_path, invoices=0, timezone="UTC") as loop:
        signed_in = SignedIn()
        app = collect_app(loop, signed_in)
        account = overdue_account(loop, amount="1234.56")
        signed_in.as_(ANA)
        with ThreadedServer(app) as server:
            context = browser_context_factory()
            page = context.new_page()
            page.set_viewport_size(PHONE)
            errors: list[str] = []
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None,
            )
            missing: list[str] = []
            page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            page.goto(f"{server.url}/staff/c/{loop.realm}/collect")
            assert page.locator("h1").inner_text() == "Your accounts"
            assert "$1,234.56" in page.locator("main").inner_text()
            page.screenshot(path=str(screenshots / "list.png"), full_page=True)
            assert page.evaluate(WIDEST) <= PHONE["width"], screenshots
            page.locator("section.account h2 a").first.click()
            assert page.locator("h1").inner_text() != "Your accounts"

            on = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
            page.fill("#promise-on", on)
            page.fill("#promise-amount", "200")
            page.get_by_role("button", name="Save promise").click()
            assert "reminders pause until that date" in page.get_by_role("status").inner_text()
            assert f"200 by {on}" in page.locator("main").inner_text()

            page.select_option("#pay-method", "check")
            page.fill("#pay-amount", "1234.56")
            page.fill("#pay-ref", "CHK 5150")
            page.get_by_role("button", name="Record payment").click()
            assert "being written to QuickBooks" in page.get_by_role("status").inner_text()
            page.screenshot(path=str(screenshots / "account.png"), full_page=True)
            assert page.evaluate(WIDEST) <= PHONE["width"], screenshots
            assert errors == [], errors  # no CSP violation, no script error
            assert [url for url in missing if not url.endswith("/favicon.ico")] == []
            page.go_back()  # the same check entered again, before QuickBooks has it: refused
            page.fill("#pay-amount", "1234.56")
            page.get_by_role("button", name="Record payment").click()
            assert "1234.56 is more than the 0.00 open" in page.get_by_role("alert").inner_text()
        loop.drain()
        with loop.ctx.db.transaction() as s:
            assert [p.reference for p in s.scalars(select(OfflinePayment))] == ["CHK 5150"]
        assert len([p for p in loop.qbo.entities("Payment") if p.get("PaymentRefNum") == "CHK 5150"]) == 1
        assert account["customer_id"]
