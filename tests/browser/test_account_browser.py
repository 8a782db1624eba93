"""The customer account in real Chromium: sign in by the emailed link, add a passkey and sign in
with it (Chromium's virtual authenticator over CDP), pay three open invoices at once and find one
QBO Payment with three lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import books_loop, open_invoices, settle
from loop_harness import Loop
from loopback import wait_until
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from syncd.stages.cycle import run_cycle
from syncd.store.models import CustomerRow, InvoiceRow

pytestmark = pytest.mark.browser

EMAIL = "owner@bakery.test"


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with books_loop(tmp_path_factory.mktemp("account"), invoices=12, public_host="localhost") as running:
        yield running


def _customer(loop: Loop, count: int) -> list[InvoiceRow]:
    """The first customer's open USD invoices (at least ``count``), its billing email ``EMAIL``."""
    invoices = open_invoices(loop)
    customer = invoices[0].customer_id
    mine = [i for i in invoices if i.customer_id == customer]
    if len(mine) < count:
        for n in range(count - len(mine)):
            loop.qbo.add_invoice(customer, Decimal("30.00") + n)
        run_cycle(loop.ctx, loop.realm)
        mine = [i for i in open_invoices(loop) if i.customer_id == customer]
    with loop.ctx.db.transaction() as s:
        for earlier in s.scalars(select(CustomerRow).where(CustomerRow.email == EMAIL)):
            earlier.email = f"earlier-{earlier.qbo_id}@bakery.test"
        row = s.get(CustomerRow, (loop.realm, customer))
        assert row is not None
        row.email = EMAIL
    return mine


def _sign_in_by_email(loop: Loop, page: Page) -> None:
    before = len(loop.sink.mailbox)
    page.goto(f"{loop.url}/account/sign-in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert loop.sink.mailbox.wait_for(before + 1, timeout=10)
    text = loop.sink.mailbox.all()[0].text or ""
    link = re.search(r"(http://\S+/account/link/[A-Za-z0-9_-]+)", text)
    assert link, text
    page.goto(link.group(1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="What you owe now")).to_be_visible()


def test_sign_in_by_email_link_then_add_a_passkey_and_sign_in_with_it(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext]
) -> None:
    mine = _customer(loop, 1)
    context = browser_context_factory()
    page = context.new_page()
    _sign_in_by_email(loop, page)
    expect(page.get_by_text(mine[0].doc_number, exact=True)).to_be_visible()

    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator: dict[str, Any] = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.get_by_role("link", name="Passkeys").click()
    expect(page.locator("#passkey-count")).to_have_text("Passkeys: 0")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-count")).to_have_text("Passkeys: 1")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(stored["credentials"]) == 1

    page.get_by_role("link", name="Back to your account").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    page.goto(f"{loop.url}/account")
    expect(page.get_by_role("heading", name="See all your invoices")).to_be_visible()

    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="What you owe now")).to_be_visible()
    expect(page.get_by_text(mine[0].doc_number, exact=True)).to_be_visible()


def test_pay_three_open_invoices_at_once_is_one_qbo_payment_with_three_lines(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext], tmp_path: Path
) -> None:
    mine = _customer(loop, 3)
    three = mine[:3]
    context = browser_context_factory()
    page = context.new_page()
    _sign_in_by_email(loop, page)
    for box in page.locator("input[name=invoice]").all():
        if box.get_attribute("value") not in {i.qbo_id for i in three}:
            box.uncheck()
    page.get_by_role("button", name="Pay selected invoices").click()
    expect(page.get_by_role("heading", name="Simulated Stripe Checkout")).to_be_visible()
    page.screenshot(path=str(tmp_path / "checkout.png"))
    page.locator("input[name=outcome][value=card_success]").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_load_state()

    def booked() -> bool:
        settle(loop)
        return any(_linked(p) == sorted(i.qbo_id for i in three) for p in loop.qbo.entities("Payment"))

    wait_until(booked, timeout=30.0, what="one QBO Payment for the three invoices")
    # The paid invoices leave the open list; the payment is in the history with a receipt.
    page.goto(f"{loop.url}/account")
    for inv in three:
        expect(page.locator(f"input[name=invoice][value='{inv.qbo_id}']")).to_have_count(0)
    page.get_by_role("link", name="Receipt").first.click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    payments = [p for p in loop.qbo.entities("Payment") if set(_linked(p)) & {i.qbo_id for i in three}]
    assert len(payments) == 1
    assert len(payments[0]["Line"]) == 3
    assert Decimal(str(payments[0]["TotalAmt"])) == sum((i.balance for i in three), Decimal(0))


def _linked(payment: dict[str, Any]) -> list[str]:
    return sorted(
        str(t["TxnId"])
        for line in payment.get("Line", [])
        for t in line.get("LinkedTxn", [])
        if t["TxnType"] == "Invoice"
    )


def test_the_account_page_fits_a_320_px_phone(
    loop: Loop, browser_context_factory: Callable[[], BrowserContext]
) -> None:
    _customer(loop, 3)
    context = browser_context_factory()
    page = context.new_page()
    page.set_viewport_size({"width": 320, "height": 640})
    _sign_in_by_email(loop, page)
    for path in ("/account", "/account/passkeys", "/account/sign-in", "/account/help"):
        page.goto(f"{loop.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at 320px"
