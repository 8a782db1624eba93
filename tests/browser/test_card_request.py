"""Card on file in a real Chromium, on the running demo: ``request-card`` email → link → consent
→ the simulated Stripe page in setup mode → thank-you page, and the card stored by the daemon
from the webhooks with brand, last 4 and expiry."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback import wait_until
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from syncd.demo import DemoHandle
from syncd.stages.card_requests import request_card
from syncd.store.models import CustomerRow, MethodConsent, SavedMethodRow

pytestmark = pytest.mark.browser

WAIT = 45.0
LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9_-]{32}")


def _customer(demo: DemoHandle) -> CustomerRow:
    found: list[CustomerRow] = []

    def pulled() -> bool:
        with demo.ctx.db.transaction() as s:
            found[:] = s.scalars(select(CustomerRow).where(CustomerRow.email.is_not(None))).all()
        return bool(found)

    wait_until(pulled, timeout=WAIT, what="the demo's first pull")
    return sorted(found, key=lambda c: c.qbo_id)[-1]


def test_request_card_link_saves_a_card_in_the_browser(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _customer(demo)
    request_card(demo.ctx, demo.qbo.realm_id, customer.qbo_id, "Remote support session on Friday")
    emails: list[str] = []

    def arrived() -> bool:
        emails[:] = [m.text or "" for m in demo.mailbox.all() if "on file" in " ".join(m.subject.split())]
        return bool(emails)

    wait_until(arrived, timeout=WAIT, what="the card request email")
    link = LINK.findall(emails[0])[0]

    page = browser_context_factory().new_page()
    try:
        page.goto(link)
        expect(page.get_by_test_id("reason")).to_have_text("Remote support session on Friday")
        expect(page.get_by_test_id("consent")).to_contain_text("keep this payment method on file")
        page.get_by_role("button", name="Agree and add a payment method").click()
        expect(page.get_by_test_id("purpose")).to_have_text("Save a payment method")
        page.get_by_label("Save test card 5555 5555 5555 4444 (Mastercard)").check()
        page.get_by_label("Card expiry month").fill("6")
        page.get_by_label("Card expiry year").fill("2029")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        assert page.url.startswith(f"{link}/done")
    except Exception:
        page.screenshot(path=str(screenshots / "card-request.png"))
        raise

    stored: list[SavedMethodRow] = []

    def saved() -> bool:
        with demo.ctx.db.transaction() as s:
            stored[:] = s.scalars(
                select(SavedMethodRow).where(SavedMethodRow.qbo_customer_id == customer.qbo_id)
            ).all()
        return bool(stored)

    wait_until(saved, timeout=WAIT, what="the daemon to store the card from the webhooks")
    card = stored[0]
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("mastercard", "4444", 6, 2029)
    with demo.ctx.db.transaction() as s:
        consents = s.scalars(
            select(MethodConsent).where(MethodConsent.qbo_customer_id == customer.qbo_id)
        ).all()
        assert len(consents) == 1 and "HeadlessChrome" in (consents[0].user_agent or "")
