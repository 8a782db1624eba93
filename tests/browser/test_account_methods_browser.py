"""Payment methods in real Chromium: add a card from the account page on the simulated Stripe
setup page and see it listed, make it the default, remove it (detached at Stripe); pay an invoice
with "keep this card for next time" ticked and find the card listed afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from books_loop import books_loop, open_invoices, settle
from loop_harness import Loop
from loopback import wait_until
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from syncd.store.models import CustomerRow, MethodConsent, SavedMethodRow

pytestmark = pytest.mark.browser

EMAIL = "cards@bakery.test"


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with books_loop(tmp_path_factory.mktemp("methods"), invoices=8, save_methods=True) as running:
        yield running


def _customer(loop: Loop) -> str:
    customer = open_invoices(loop)[0].customer_id
    with loop.ctx.db.transaction() as s:
        row = s.get(CustomerRow, (loop.realm, customer))
        assert row is not None
        row.email = EMAIL
    return customer


def _links(loop: Loop) -> list[str]:
    texts = [m.text or "" for m in loop.sink.mailbox.all()]
    return [x for t in texts for x in re.findall(r"(http://\S+/account/link/[A-Za-z0-9_-]+)", t)]


def _sign_in(loop: Loop, page: Page) -> None:
    old = set(_links(loop))
    page.goto(f"{loop.url}/account/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    found: list[str] = []

    def arrived() -> bool:
        found[:] = [x for x in _links(loop) if x not in old]
        return bool(found)

    wait_until(arrived, timeout=10, what="the sign-in email")
    link = found[-1]
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="What you owe now")).to_be_visible()


def _on_file(loop: Loop, customer: str) -> list[SavedMethodRow]:
    with loop.ctx.db.transaction() as s:
        return list(
            s.scalars(
                select(SavedMethodRow).where(
                    SavedMethodRow.qbo_customer_id == customer, SavedMethodRow.detached_at.is_(None)
                )
            )
        )


def test_add_a_card_make_it_default_and_remove_it(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _customer(loop)
    page = browser_context_factory().new_page()
    page.set_viewport_size({"width": 320, "height": 800})
    try:
        _sign_in(loop, page)
        methods = page.get_by_role("region", name="Payment methods")
        expect(methods).to_contain_text("No card or bank account on file.")
        expect(methods).to_contain_text("keep this payment method on file with Stripe")
        page.get_by_role("button", name="Add a card or bank account").click()
        expect(page.get_by_test_id("purpose")).to_have_text("Save a payment method")
        page.get_by_label("Save test card 5555 5555 5555 4444 (Mastercard)").check()
        page.get_by_label("Card expiry month").fill("6")
        page.get_by_label("Card expiry year").fill("2029")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="What you owe now")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Your payment method will appear here")

        wait_until(
            lambda: (settle(loop), bool(_on_file(loop, customer)))[1],
            timeout=30.0,
            what="the saved card",
        )
        page.reload()
        methods = page.get_by_role("region", name="Payment methods")
        expect(methods).to_contain_text("Mastercard ending 4444")
        expect(methods).to_contain_text("Expires 06/2029")
        (row,) = _on_file(loop, customer)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320  # fits a 320 px phone

        methods.get_by_role("button", name="Make default").click()
        methods = page.get_by_role("region", name="Payment methods")
        expect(methods.get_by_text("Default", exact=True)).to_be_visible()
        expect(methods.get_by_role("button", name="Make default")).to_have_count(0)
        at_stripe = loop.ctx.stripe.saved_methods(row.stripe_customer_id)
        assert [(m.id, m.is_default) for m in at_stripe] == [(row.payment_method_id, True)]

        methods.get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_contain_text("That payment method is removed.")
        expect(page.get_by_role("region", name="Payment methods")).to_contain_text(
            "No card or bank account on file."
        )
        assert loop.ctx.stripe.saved_methods(row.stripe_customer_id) == []
    except Exception:
        page.screenshot(path=str(screenshots / "account-methods.png"))
        raise


def test_pay_with_keep_this_card_ticked_lists_the_card(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _customer(loop)
    before = {r.payment_method_id for r in _on_file(loop, customer)}
    invoice = next(i for i in open_invoices(loop) if i.customer_id == customer)
    page = browser_context_factory().new_page()
    try:
        page.goto(loop.ctx.links.url(loop.realm, invoice.qbo_id))
        keep = page.get_by_label(re.compile(r"^Keep this card for next time\."))
        expect(keep).not_to_be_checked()
        keep.check()
        page.get_by_role("button", name=re.compile(r"^(Pay |Continue to payment)")).click()
        expect(page.get_by_role("heading", name="Simulated Stripe Checkout")).to_be_visible()
        page.locator("input[name=outcome][value=card_success]").check()
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        page.wait_for_load_state()

        def kept() -> bool:
            settle(loop)
            return bool({r.payment_method_id for r in _on_file(loop, customer)} - before)

        wait_until(kept, timeout=30.0, what="the card kept from the payment")
        (new,) = {r.payment_method_id for r in _on_file(loop, customer)} - before
        with loop.ctx.db.transaction() as s:
            consent = s.scalars(select(MethodConsent).where(MethodConsent.payment_method_id == new)).one()
            assert consent.text.startswith("Keep this card for next time.") and consent.user_agent
        _sign_in(loop, page)
        expect(page.get_by_role("region", name="Payment methods")).to_contain_text("Visa ending 4242")
    except Exception:
        page.screenshot(path=str(screenshots / "keep-card.png"))
        raise
