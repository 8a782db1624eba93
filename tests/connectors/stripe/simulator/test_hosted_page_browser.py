"""The hosted payment page in Debian's chromium with JavaScript switched off: the page must work
as plain HTML forms."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from strictness import unavailable

from connectors.stripe.simulator import StripeSimulator

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SYNCD_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def page() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            context.set_default_timeout(20_000)
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def test_decline_then_pay_without_javascript(
    sim: StripeSimulator, client: Any, new_session: Any, page: Any
) -> None:
    session = new_session(amount=4200, success_url=f"{sim.url}/healthz?paid={{CHECKOUT_SESSION_ID}}")
    page.goto(session.url)
    assert "42.00 USD" in page.text_content("[data-testid=amount]")
    page.check("input[value=card_declined]")
    page.click("button[type=submit]")
    assert "Your card was declined" in page.text_content("[role=alert]")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    page.check("input[value=card_success]")
    page.click("button[type=submit]")
    page.wait_for_url(f"{sim.url}/healthz?paid={session.id}")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_three_d_secure_challenge_in_the_browser(
    sim: StripeSimulator, client: Any, new_session: Any, page: Any
) -> None:
    session = new_session(success_url=f"{sim.url}/healthz")
    page.goto(session.url)
    page.check("input[value=requires_action]")
    page.click("button[type=submit]")
    page.click("text=Complete authentication")
    page.wait_for_url(f"{sim.url}/healthz")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
