"""The demo path in a real browser: emailed link → portal → simulated Checkout → receipt, and the
invoice paid in the QBO simulator; bank (ACH) payments show processing; QBO text stays text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from loopback import wait_until
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from syncd.demo import COMPANY_NAME, DemoHandle

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
WAIT = 45.0


def _subject(message: Any) -> str:
    return " ".join(str(message.subject).split())


def _portal_url(demo: DemoHandle, doc: str) -> str:
    ids = [str(i["Id"]) for i in demo.qbo.entities("Invoice") if str(i.get("DocNumber")) == doc]
    assert len(ids) == 1, f"invoice {doc}: {ids}"
    return demo.ctx.links.url(demo.qbo.realm_id, ids[0])


def _invoice_email(demo: DemoHandle, doc: str) -> Any:
    """The message carrying the invoice's link: its own email, or its customer's combined one."""
    found: list[Any] = []
    url = _portal_url(demo, doc)

    def arrived() -> bool:
        found[:] = [m for m in demo.mailbox.all() if url in (m.text or "")]
        return bool(found)

    wait_until(arrived, timeout=WAIT, what=f"the new-invoice email for invoice {doc}")
    return found[0]


def _open_invoice(demo: DemoHandle, currency: str = "USD", skip: set[str] | None = None) -> dict[str, Any]:
    """An unpaid invoice of the seeded company (balance = total), not used by another test."""
    for invoice in demo.qbo.entities("Invoice"):
        balance = Decimal(str(invoice.get("Balance", 0)))
        if (
            balance > 0
            and balance == Decimal(str(invoice["TotalAmt"]))
            and invoice.get("CurrencyRef", {}).get("value", "USD") == currency
            and str(invoice["DocNumber"]) not in (skip or set())
        ):
            return invoice
    raise AssertionError("the demo company has no unpaid invoice left")


USED: set[str] = set()


def _claim_invoice(demo: DemoHandle) -> dict[str, Any]:
    invoice = _open_invoice(demo, skip=USED)
    USED.add(str(invoice["DocNumber"]))
    return invoice


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


class Shots:
    """Numbered screenshots of one test, kept in a tmp dir that a failure names."""

    def __init__(self, directory: Path, page: Page) -> None:
        self.directory = directory
        self.page = page
        self.n = 0

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.directory / f"{self.n:02d}-{name}.png"), full_page=True)


@contextmanager
def _session(
    browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> Iterator[tuple[Page, Shots, list[str]]]:
    """A fresh browser context and page; every JS dialog is recorded (and dismissed); on failure
    a last screenshot is taken and the screenshot directory is named."""
    context = browser_context_factory()
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    shots = Shots(screenshots, page)
    try:
        yield page, shots, dialogs
    except BaseException as exc:
        with suppress(Exception):  # the page itself may be what broke
            shots("failure")
        exc.add_note(f"screenshots of this test: {screenshots}")
        raise
    finally:
        context.close()


def _follow_email_to_portal(page: Page, shots: Shots, demo: DemoHandle, doc: str) -> None:
    """Mailbox → the new-invoice email → its payment link, as a person would click."""
    subject = _subject(_invoice_email(demo, doc))
    assert re.search(rf"\b{re.escape(doc)}\b", subject) and COMPANY_NAME in subject, subject
    page.goto(f"{demo.url}/mailbox")
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    shots("mailbox")
    page.get_by_role("link", name=subject, exact=True).first.click()
    expect(page.locator("#subject")).to_contain_text(subject)
    shots("email")
    page.locator(f".plain a[href='{_portal_url(demo, doc)}']").first.click()
    expect(page.get_by_role("heading", name=f"Invoice {doc}")).to_be_visible()


def _pay_on_checkout(page: Page, shots: Shots, outcome: str) -> None:
    expect(page.get_by_role("heading", name="Simulated Stripe Checkout")).to_be_visible()
    page.locator(f"input[name=outcome][value={outcome}]").check()
    shots("checkout")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def _payments_linked_to(demo: DemoHandle, invoice_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in demo.qbo.entities("Payment")
        if any(
            txn.get("TxnId") == invoice_id and txn.get("TxnType") == "Invoice"
            for line in p.get("Line", [])
            for txn in line.get("LinkedTxn", [])
        )
    ]


def test_card_payment_from_emailed_link(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    invoice = _claim_invoice(demo)
    doc, invoice_id = str(invoice["DocNumber"]), str(invoice["Id"])
    balance = Decimal(str(invoice["Balance"]))
    with _session(browser_context_factory, screenshots) as (page, shots, dialogs):
        _follow_email_to_portal(page, shots, demo, doc)
        portal_url = page.url
        assert re.search(r"/i/[A-Za-z0-9_-]{32}$", portal_url), portal_url
        # The invoice page: number, amount, branding.
        expect(page.locator(".balance")).to_contain_text(_money(balance))
        expect(page.locator("body")).to_contain_text(COMPANY_NAME)
        expect(page.locator(".badge")).to_have_text(re.compile("Open|Overdue"))
        shots("invoice")
        page.get_by_role("button", name=re.compile("Continue to payment|^Pay ")).click()

        _pay_on_checkout(page, shots, "card_success")
        expect(page.get_by_role("heading", name=re.compile("Thank you|Confirming"))).to_be_visible()
        if "Confirming" in page.locator("h1").inner_text():
            thanks = page.get_by_role("heading", name="Thank you for your payment")
            expect(thanks).to_be_visible(timeout=30_000)  # the pending page refreshes itself
        shots("success")

        # The receipt arrives, and QuickBooks shows the invoice paid through one linked Payment.
        wait_until(
            lambda: any(
                _subject(m).startswith("Receipt:") and _subject(m).endswith(f"invoice {doc}")
                for m in demo.mailbox.all()
            ),
            timeout=WAIT,
            what=f"the receipt for invoice {doc}",
        )
        wait_until(
            lambda: bool(_payments_linked_to(demo, invoice_id)),
            timeout=WAIT,
            what=f"a QBO Payment linked to {doc}",
        )
        paid = demo.qbo.entity("Invoice", invoice_id)
        assert paid is not None and Decimal(str(paid["Balance"])) == 0
        assert len(_payments_linked_to(demo, invoice_id)) == 1

        def portal_says_paid() -> bool:
            page.goto(portal_url)
            return page.locator(".badge").inner_text().strip() == "Paid"

        wait_until(portal_says_paid, timeout=WAIT, what="the portal to show Paid")
        expect(page.get_by_role("button", name=re.compile("Pay|Continue"))).to_have_count(0)
        shots("paid")

        page.goto(f"{demo.qbo.url}/")
        expect(page.locator("body")).to_contain_text(doc)
        shots("qbo-simulator")
        assert dialogs == []


def test_bank_payment_shows_processing(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    invoice = _claim_invoice(demo)
    doc, invoice_id = str(invoice["DocNumber"]), str(invoice["Id"])
    with _session(browser_context_factory, screenshots) as (page, shots, dialogs):
        _follow_email_to_portal(page, shots, demo, doc)
        portal_url = page.url
        shots("invoice")
        page.get_by_role("button", name=re.compile("Continue to payment|^Pay ")).click()
        _pay_on_checkout(page, shots, "ach_success")
        expect(page.get_by_role("heading", name=re.compile("processing|Confirming", re.I))).to_be_visible()
        shots("return")

        def portal_says_processing() -> bool:
            page.goto(portal_url)
            return page.locator(".badge").inner_text().strip() == "Processing"

        wait_until(portal_says_processing, timeout=WAIT, what="the portal to show Processing")
        expect(page.locator(".state-processing")).to_be_visible()
        shots("processing")
        # Processing is not paid: nothing is written to QuickBooks yet.
        assert _payments_linked_to(demo, invoice_id) == []
        still = demo.qbo.entity("Invoice", invoice_id)
        assert still is not None and Decimal(str(still["Balance"])) == Decimal(str(invoice["Balance"]))
        assert dialogs == []


def _create_customer(demo: DemoHandle, name: str, email: str) -> str:
    """A customer created through the QBO API, as a bookkeeper typing in QuickBooks would."""
    token = demo.qbo.mint_tokens()["access_token"]
    answer = requests.post(
        f"{demo.qbo.api_base_url}/company/{demo.qbo.realm_id}/customer",
        params={"minorversion": "75"},
        json={"DisplayName": name, "PrimaryEmailAddr": {"Address": email}},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["Customer"]["Id"])


def test_hostile_invoice_text_renders_as_text(
    demo: DemoHandle, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    customer = _create_customer(demo, HOSTILE, "mallory@example.com")
    invoice_id = demo.qbo.add_invoice(
        customer, Decimal("42.00"), doc_number="X-1", description=f"Support {HOSTILE}"
    )
    created = demo.qbo.entity("Invoice", invoice_id)
    assert created is not None
    doc = str(created["DocNumber"])
    with _session(browser_context_factory, screenshots) as (page, shots, dialogs):
        _follow_email_to_portal(page, shots, demo, doc)
        expect(page.locator("table.lines")).to_contain_text(HOSTILE)
        expect(page.locator(".facts")).to_contain_text(HOSTILE)  # "Billed to": the customer's name
        assert page.locator("img[src=x]").count() == 0
        shots("portal")
        # The email as the mailbox shows it (text part and sandboxed HTML part).
        page.go_back()
        assert page.locator("img[src=x]").count() == 0
        page.goto(f"{demo.url}/mailbox")
        shots("mailbox")
        page.wait_for_timeout(500)  # give an injected handler every chance to fire
        assert dialogs == [], dialogs
