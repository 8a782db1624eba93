"""Card on file in a real Chromium, on the running demo: ``request-card`` email → link → consent
→ the simulated Stripe page in setup mode → thank-you page, and the card stored by the daemon
from the webhooks with brand, last 4 and expiry. Then the card-expiry email, followed from the
demo's mailbox, through to a new card on file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from loopback import wait_until
from method_rows import card_on_file
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from syncd import demo_autopay
from syncd.demo import DemoHandle
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.card_requests import request_card
from syncd.store.models import CustomerRow, MethodConsent, SavedMethodRow

pytestmark = pytest.mark.browser

WAIT = 45.0
LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9_-]{32}")


def _agree_and_save_a_mastercard(page: Page, expiry: tuple[int, int]) -> None:
    """On the card link's page: agree, save the Mastercard test card on Stripe's page, see thanks."""
    page.get_by_role("button", name="Agree and add a payment method").click()
    expect(page.get_by_test_id("purpose")).to_have_text("Save a payment method")
    page.get_by_label("Save test card 5555 5555 5555 4444 (Mastercard)").check()
    page.get_by_label("Card expiry month").fill(str(expiry[0]))
    page.get_by_label("Card expiry year").fill(str(expiry[1]))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()


def _stored(demo: DemoHandle, customer: CustomerRow, last4: str) -> SavedMethodRow:
    """The card the daemon stores from the webhooks, once it has."""
    stored: list[SavedMethodRow] = []

    def saved() -> bool:
        with demo.ctx.db.transaction() as s:
            stored[:] = s.scalars(
                select(SavedMethodRow).where(
                    SavedMethodRow.qbo_customer_id == customer.qbo_id, SavedMethodRow.last4 == last4
                )
            ).all()
        return bool(stored)

    wait_until(saved, timeout=WAIT, what="the daemon to store the card from the webhooks")
    return stored[0]


def _customer(demo: DemoHandle, first: bool = False) -> CustomerRow:
    found: list[CustomerRow] = []

    def pulled() -> bool:
        with demo.ctx.db.transaction() as s:
            found[:] = s.scalars(
                # Not the demo's autopay customer: its card and consent are on file already.
                select(CustomerRow).where(
                    CustomerRow.email.is_not(None), CustomerRow.display_name != demo_autopay.CUSTOMER
                )
            ).all()
        return bool(found)

    wait_until(pulled, timeout=WAIT, what="the demo's first pull")
    return sorted(found, key=lambda c: c.qbo_id)[0 if first else -1]


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
        _agree_and_save_a_mastercard(page, (6, 2029))
        assert page.url.startswith(f"{link}/done")
    except Exception:
        page.screenshot(path=str(screenshots / "card-request.png"))
        raise

    card = _stored(demo, customer, "4444")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("mastercard", "4444", 6, 2029)
    with demo.ctx.db.transaction() as s:
        consents = s.scalars(
            select(MethodConsent).where(MethodConsent.qbo_customer_id == customer.qbo_id)
        ).all()
        assert len(consents) == 1 and "HeadlessChrome" in (consents[0].user_agent or "")


def _customer_with_an_expiring_card(demo: DemoHandle) -> CustomerRow:
    """A pulled customer with an email, given a Visa ending 4242 that expires this month."""
    customer = _customer(demo, first=True)
    now = demo.ctx.clock()
    with demo.ctx.db.transaction() as s:
        expiring = {"exp_month": now.month, "exp_year": now.year, "is_default": True}
        s.add(card_on_file("pm_expiring_4242", customer.company_id, customer.qbo_id, now, **expiring))
    return customer


def test_card_expiry_email_link_from_the_mailbox_adds_a_new_card(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _customer_with_an_expiring_card(demo)
    expiry_notices(demo.ctx, customer.company_id)  # (the demo's own pull may have queued it first)

    def arrived() -> bool:
        return any("expires soon" in " ".join(m.subject.split()) for m in demo.mailbox.all())

    wait_until(arrived, timeout=WAIT, what="the card-expiry email")
    page = browser_context_factory().new_page()
    try:
        page.goto(f"{demo.url}/mailbox")
        page.get_by_role("link", name="Your Visa ending 4242").first.click()
        expect(page.get_by_role("heading", name="Your Visa ending 4242", exact=False)).to_be_visible()
        page.get_by_role("link", name="Open the HTML part on its own").click()
        expect(page.get_by_text("expires on")).to_be_visible()
        page.get_by_role("link", name="Add a new card").click()

        expect(page.get_by_test_id("reason")).to_contain_text("The card ending 4242 expires at the end of")
        _agree_and_save_a_mastercard(page, (8, 2031))
    except Exception:
        page.screenshot(path=str(screenshots / "card-expiry.png"))
        raise

    card = _stored(demo, customer, "4444")
    assert (card.brand, card.exp_month, card.exp_year) == ("mastercard", 8, 2031)
    # The notice went once: asking again for the same card queues nothing.
    assert expiry_notices(demo.ctx, customer.company_id) == 0
