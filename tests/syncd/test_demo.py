"""``syncd demo`` smoke: everything comes up on loopback, new-invoice emails arrive, a card payment
lands in the QBO simulator as one Payment, and stop is clean."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from syncd.demo import DemoHandle, start_demo, where_to_click
from syncd.demo_autopay import EMAIL as autopay_email
from syncd.store.models import TextNumber

WAIT = 30.0


def wait_until(predicate: object, timeout: float = WAIT) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHandle]:
    handle = start_demo(port=0, invoices=8, state_dir=tmp_path_factory.mktemp("demo"))
    yield handle
    handle.stop()


def open_invoices_with_email(demo: DemoHandle) -> list[dict[str, object]]:
    return [
        inv
        for inv in demo.qbo.entities("Invoice")
        if Decimal(str(inv.get("Balance", 0))) > 0 and (inv.get("BillEmail") or {}).get("Address")
    ]


def test_comes_up_and_mails_every_open_invoice(demo: DemoHandle) -> None:
    """The demo sets ``first_sync = "email_open"``: every open invoice's link is mailed, several
    invoices of one customer in one message."""
    assert requests.get(f"{demo.url}/healthz", timeout=5).status_code == 200
    invoices = open_invoices_with_email(demo)
    expected = {demo.ctx.links.url(demo.qbo.realm_id, str(inv["Id"])) for inv in invoices}
    assert expected

    def all_mailed() -> bool:
        text = " ".join(m.text or "" for m in demo.mailbox.all())
        return all(url in text for url in expected)

    assert wait_until(all_mailed)
    # One invoice message per customer (the autopay customer also gets its autopay notice).
    messages = [m for m in demo.mailbox.all() if "will charge" not in (m.subject or "")]
    assert len({m.to for m in messages}) == len(messages)
    assert all("Northwind IT Services" in m.subject for m in messages)
    assert all(f"{demo.url}/i/" in (m.text or "") for m in messages)
    page = requests.get(f"{demo.url}/mailbox", timeout=5)
    assert page.status_code == 200
    assert "Invoice" in page.text


def test_card_payment_reaches_quickbooks_once(demo: DemoHandle) -> None:
    # An invoice email of a customer not on autopay (the autopay one is charged in its own test).
    def invoice_emails() -> list[Any]:
        return [m for m in demo.mailbox.all() if autopay_email not in str(m.to) and "/i/" in (m.text or "")]

    assert wait_until(lambda: len(invoice_emails()) > 0)
    message = invoice_emails()[-1]
    link = re.search(rf"{re.escape(demo.url)}/i/[A-Za-z0-9_-]{{32}}", message.text or "")
    assert link is not None
    browser = requests.Session()
    page = browser.get(link.group(0), timeout=5)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    paid = browser.post(
        link.group(0) + "/pay", data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=10
    )
    assert paid.status_code == 303, paid.text
    session_id = re.search(r"(cs_[A-Za-z0-9_]+)", paid.headers["location"])
    assert session_id is not None
    payments_before = len(demo.qbo.entities("Payment"))
    demo.stripe.pay_checkout(session_id.group(1), "card_success")
    assert wait_until(lambda: len(demo.qbo.entities("Payment")) > payments_before)
    time.sleep(1.0)  # a duplicate would show up within a few worker ticks
    assert len(demo.qbo.entities("Payment")) == payments_before + 1


def test_hints_name_the_places_to_click(demo: DemoHandle) -> None:
    text = where_to_click(demo)
    assert f"{demo.url}/mailbox" in text
    assert demo.qbo.url in text
    assert "syncd" in text and "status" in text
    assert demo.twilio is not None and f"{demo.twilio.url}/phone" in text


def test_customers_mobiles_are_textable_under_the_attestation(demo: DemoHandle) -> None:
    """The demo company attests consent for QBO Mobile numbers: each pulled customer is textable."""
    # (The autopay customer, added by the demo, has no mobile in QBO.)
    customers = len([c for c in demo.qbo.entities("Customer") if c.get("Mobile")])

    def numbers() -> list[TextNumber]:
        with demo.ctx.db.transaction() as s:
            return list(s.scalars(select(TextNumber)))

    assert wait_until(lambda: len(numbers()) == customers)
    assert all(n.source == "qbo_mobile" and n.number.startswith("+1415555") for n in numbers())


def test_stop_is_clean(tmp_path: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    handle = start_demo(port=0, invoices=3, state_dir=tmp_path)
    url = handle.url
    handle.stop()
    handle.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=2)
    assert wait_until(lambda: not ({t.name for t in threading.enumerate() if t.is_alive()} - before), 10)


def test_autopay_customer_is_noticed_then_charged_when_the_demo_clock_moves(demo: DemoHandle) -> None:
    """One seeded customer has a Visa on file and autopay on: the notice is in the mailbox at once,
    and moving the demo clock to the due date charges the invoice once, booked in QuickBooks."""
    invoice = demo.qbo.entity("Invoice", demo.autopay_invoice)
    assert invoice is not None
    number = str(invoice["DocNumber"])

    def mailed(word: str) -> list[object]:
        return [m for m in demo.mailbox.all() if word in (m.subject or "") and number in (m.subject or "")]

    assert wait_until(lambda: mailed("will charge"))
    page = requests.get(f"{demo.url}/demo/clock", timeout=5)
    assert page.status_code == 200 and "is charged on" in page.text

    def intents() -> list[dict[str, object]]:
        found = demo.stripe.objects("payment_intent")
        return [i for i in found if dict(i["metadata"]).get("invoice_ids") == demo.autopay_invoice]  # type: ignore[call-overload]

    for _ in range(3):
        assert not intents()  # nothing before the due date
        moved = requests.post(f"{demo.url}/demo/clock", allow_redirects=False, timeout=5)
        assert moved.status_code == 303
    assert wait_until(lambda: len(intents()) == 1)
    assert intents()[0]["status"] == "succeeded"
    assert wait_until(lambda: Decimal(str(demo.qbo.entity("Invoice", demo.autopay_invoice)["Balance"])) == 0)  # type: ignore[index]
    assert "was charged" in requests.get(f"{demo.url}/demo/clock", timeout=5).text
    assert wait_until(lambda: mailed("Receipt"))
    time.sleep(1.0)  # a second charge would show up within a few worker ticks
    assert len(intents()) == 1
