"""The card-expiry notice in real Chromium, on the running demo: a card on file that expires this
month gets its email; from the demo's mailbox the customer follows "Add a new card", agrees, saves
a new card on the simulated Stripe setup page, and the daemon stores it from the webhooks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from syncd.demo import DemoHandle
from syncd.stages.card_expiry import expiry_notices
from syncd.store.models import CustomerRow, SavedMethodRow

pytestmark = pytest.mark.browser

WAIT = 45.0


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _customer_with_an_expiring_card(demo: DemoHandle) -> CustomerRow:
    """A pulled customer with an email, given a Visa ending 4242 that expires this month."""
    found: list[CustomerRow] = []

    def pulled() -> bool:
        with demo.ctx.db.transaction() as s:
            found[:] = s.scalars(select(CustomerRow).where(CustomerRow.email.is_not(None))).all()
        return bool(found)

    _wait(pulled, "the demo's first pull")
    customer = sorted(found, key=lambda c: c.qbo_id)[0]
    now = demo.ctx.clock()
    with demo.ctx.db.transaction() as s:
        s.add(
            SavedMethodRow(
                payment_method_id="pm_expiring_4242",
                company_id=customer.company_id,
                qbo_customer_id=customer.qbo_id,
                stripe_customer_id="cus_expiring",
                kind="card",
                brand="visa",
                last4="4242",
                exp_month=now.month,
                exp_year=now.year,
                is_default=True,
                attached_at=now,
                updated_at=now,
            )
        )
    return customer


def test_card_expiry_email_link_from_the_mailbox_adds_a_new_card(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _customer_with_an_expiring_card(demo)
    assert expiry_notices(demo.ctx, customer.company_id) == 1

    def arrived() -> bool:
        return any("expires soon" in " ".join(m.subject.split()) for m in demo.mailbox.all())

    _wait(arrived, "the card-expiry email")
    page = browser_context_factory().new_page()
    try:
        page.goto(f"{demo.url}/mailbox")
        page.get_by_role("link", name="Your Visa ending 4242").first.click()
        expect(page.get_by_role("heading", name="Your Visa ending 4242", exact=False)).to_be_visible()
        page.get_by_role("link", name="Open the HTML part on its own").click()
        expect(page.get_by_text("expires on")).to_be_visible()
        page.get_by_role("link", name="Add a new card").click()

        expect(page.get_by_test_id("reason")).to_contain_text("The card ending 4242 expires at the end of")
        page.get_by_role("button", name="Agree and add a payment method").click()
        expect(page.get_by_test_id("purpose")).to_have_text("Save a payment method")
        page.get_by_label("Save test card 5555 5555 5555 4444 (Mastercard)").check()
        page.get_by_label("Card expiry month").fill("8")
        page.get_by_label("Card expiry year").fill("2031")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    except Exception:
        page.screenshot(path=str(screenshots / "card-expiry.png"))
        raise

    stored: list[SavedMethodRow] = []

    def saved() -> bool:
        with demo.ctx.db.transaction() as s:
            stored[:] = s.scalars(
                select(SavedMethodRow).where(
                    SavedMethodRow.qbo_customer_id == customer.qbo_id, SavedMethodRow.last4 == "4444"
                )
            ).all()
        return bool(stored)

    _wait(saved, "the daemon to store the new card from the webhooks")
    assert (stored[0].brand, stored[0].exp_month, stored[0].exp_year) == ("mastercard", 8, 2031)
    # The notice went once: asking again for the same card queues nothing.
    assert expiry_notices(demo.ctx, customer.company_id) == 0
