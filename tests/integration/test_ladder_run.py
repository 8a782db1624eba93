"""The collections ladder for one customer through the real ``syncd run`` over the QBO, Stripe,
Twilio and SMTP simulators, the daemon's clock moved day by day (``SYNCD_SIMULATED_CLOCK_FILE``):
before-due, due and after-due reminders by email and text, the final notice handing the account to
a collector, STOP typed on the simulator's phone page stopping texts at once, a promise to pay
pausing reminders, the promise broken, credit hold, the agency export, a check the collector
records that appears once in QBO, and the card payment that releases the hold."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from outside import COMPANY_NAME
from sim_days import Days, cycled, world_on
from sqlalchemy import select
from world import Daemon, PortalClient, World

from connectors.sms.simulator import TwilioSimulator
from syncd.clock import SIMULATED_CLOCK_ENV
from syncd.links import Links
from syncd.secrets import SecretBox
from syncd.store import holds
from syncd.store.models import CollectionAccount, TextNumber

pytestmark = pytest.mark.slow

CUSTOMER_EMAIL = "ap@harbor-dental.test"
PHONE = "+14155550187"
STAFF = "owner@northwind.test"
ANA = "ana@northwind.test"
ANA_PASSWORD = "a long collector password 42"
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
REQUEST_ID = re.compile(r'name="request_id"\s+value="([^"]+)"')
LAST_DAY = 9  # the day the customer pays: the clock is then back near real time (see ``Days``)
STEPS = '["-2:email:reminder_before", "0:email:reminder_due", "2:both:reminder_after", "4:both:final_notice"]'


@pytest.fixture
def days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Days:
    clock = Days(tmp_path / "clock-offset", today=LAST_DAY)
    monkeypatch.setenv(SIMULATED_CLOCK_ENV, str(clock.path))  # the daemon's and the CLI's clock
    return clock


@pytest.fixture
def world(tmp_path: Path, days: Days) -> Iterator[World]:
    with world_on(days, tmp_path / "state") as made:
        yield made


@pytest.fixture
def twilio(world: World) -> Iterator[TwilioSimulator]:
    with TwilioSimulator(sms_url=f"{world.url}/webhooks/twilio", mps=10) as sim:
        yield sim


def _configure(world: World, sim: TwilioSimulator) -> Links:
    """The integration config plus the reminder policy, the collector rule and texting."""
    settings = world.write_config(staff_email=STAFF)
    text = world.config_path.read_text()
    # Stripe's SDK dates signed events by the real clock; the simulator's is up to a day off it.
    text = re.sub(r"(webhook_secret = .*\n)", r"\1webhook_tolerance_seconds = 86400\n", text, count=1)
    text += f"""
[company.collections]
policy = true
steps = {STEPS}
assign = ["{ANA}"]
hold_after_days = 2
agency_above = "100"

[company.sms]
enabled = true
account_sid = "{sim.account_sid}"
auth_token = "{sim.auth_token}"
from_number = "{sim.number}"
api_base = "{sim.url}"
attest_qbo_mobile = true
"""
    world.config_path.write_text(text)
    return Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)


def _to_customer(world: World) -> list[Any]:
    """The customer's emails, oldest first."""
    return sorted((m for m in world.sink.mailbox.all() if CUSTOMER_EMAIL in m.to), key=lambda m: int(m.id))


def _staff(world: World, subject: str) -> list[Any]:
    return [m for m in world.sink.mailbox.all() if STAFF in m.to and subject in m.subject]


def _outbound(sim: TwilioSimulator) -> list[Any]:
    return [m for m in sim.sent_to(PHONE) if m.direction == "outbound-api"]


def _wait_mail(world: World, count: int, what: str) -> Any:
    world.wait_until(lambda: len(_to_customer(world)) >= count, timeout=30, what=what)
    return _to_customer(world)[count - 1]


def _notes(world: World, customer_id: str) -> str:
    """The QBO customer's Notes, where syncd writes the credit-hold line for the bookkeeper."""
    return str((world.qbo.entity("Customer", customer_id) or {}).get("Notes", ""))


def _payments_for(world: World, invoice_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in world.qbo.entities("Payment")
        if any(t.get("TxnId") == invoice_id for line in p.get("Line", []) for t in line.get("LinkedTxn", []))
    ]


class Collector:
    """Ana at her phone: signed in to the staff console over HTTP (again after each day, as the
    console's sessions end after 12 hours)."""

    def __init__(self, world: World) -> None:
        self.world = world
        added = world.syncd("staff", "add", ANA, "--company", world.realm, "--role", "collector")
        assert added.returncode == 0, added.stderr
        found = re.search(r"One-time password \(shown once\): (\S+)", added.stdout)
        assert found, added.stdout
        self.password = found.group(1)
        self.http = requests.Session()

    def sign_in(self) -> None:
        self.http = requests.Session()
        url = self.world.url
        form = self.http.get(f"{url}/staff/sign-in", timeout=10)
        answer = self.http.post(
            f"{url}/staff/sign-in",
            data={"csrf_token": _token(form.text), "email": ANA, "password": self.password},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303, answer.text[:300]
        page = self.http.get(f"{url}/staff/password", timeout=10)
        if self.password != ANA_PASSWORD:  # the one-time password is replaced at first sign-in
            answer = self.http.post(
                f"{url}/staff/password",
                data={"csrf_token": _token(page.text), "password": ANA_PASSWORD, "again": ANA_PASSWORD},
                allow_redirects=False,
                timeout=30,
            )
            assert answer.status_code == 303, answer.text[:300]
            self.password = ANA_PASSWORD

    def page(self, customer_id: str = "") -> str:
        path = f"{self.world.url}/staff/c/{self.world.realm}/collect" + (
            f"/{customer_id}" if customer_id else ""
        )
        answer = self.http.get(path, timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        return answer.text

    def record(
        self, customer_id: str, action: str, fields: dict[str, str], *, page: str | None = None
    ) -> None:
        page = page or self.page(customer_id)
        answer = self.http.post(
            f"{self.world.url}/staff/c/{self.world.realm}/collect/{customer_id}/{action}",
            data={"csrf_token": _token(page), **fields},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303, answer.text[:500]
        assert f"ok={action}" in answer.headers["location"]


def _token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _opted_out(world: World, customer_id: str) -> bool:
    db = world.database()
    try:
        with db.transaction() as s:
            row = s.get(TextNumber, (world.realm, customer_id))
            return row is not None and row.opted_out_at is not None
    finally:
        db.dispose()


def _account(world: World, customer_id: str) -> tuple[str | None, bool]:
    """The account's collector, and whether the customer is on credit hold."""
    db = world.database()
    try:
        with db.transaction() as s:
            account = s.scalar(
                select(CollectionAccount).where(
                    CollectionAccount.company_id == world.realm, CollectionAccount.customer_id == customer_id
                )
            )
            held = holds.active(s, world.realm, customer_id) is not None
            return (account.collector if account else None), held
    finally:
        db.dispose()


def test_a_customer_climbs_the_whole_ladder_under_syncd_run(
    world: World,
    twilio: TwilioSimulator,
    days: Days,
    daemon: Callable[[], Daemon],
    portal: PortalClient,
    tmp_path: Path,
) -> None:
    links = _configure(world, twilio)
    customer = world.qbo.create_entity(
        "Customer",
        {
            "DisplayName": "Harbor Dental",
            "PrimaryEmailAddr": {"Address": CUSTOMER_EMAIL},
            "Mobile": {"FreeFormNumber": "(415) 555-0187"},
        },
    )
    first = world.qbo.add_invoice(
        customer, Decimal("240.00"), due_date=days.date(2), doc_number="L-1", email=CUSTOMER_EMAIL
    )
    second = world.qbo.add_invoice(
        customer, Decimal("180.00"), due_date=days.date(6), doc_number="L-2", email=CUSTOMER_EMAIL
    )
    proc = daemon()
    proc.start()

    # Day 0: the first sync emails both invoices; that is the customer's message of the day.
    assert "2 invoices" in _wait_mail(world, 1, "the invoice email").subject
    cycled(world, days)
    assert len(_to_customer(world)) == 1 and _outbound(twilio) == []

    # Day 1: L-1 is two days from due (the -2 step it reached on day 0 waited a day).
    days.to(1)
    before = _wait_mail(world, 2, "the before-due reminder")
    assert before.subject.startswith("Reminder: 1 invoice") and "L-1" in (before.text or "")
    days.to(2)
    due = _wait_mail(world, 3, "the due-date reminder")
    assert due.subject.startswith("Due today: 1 invoice")
    assert _outbound(twilio) == []  # the steps so far are email only

    # Day 4: L-1 two days overdue (email and text), L-2 two days from due: one message for both.
    days.to(4)
    after = _wait_mail(world, 4, "the after-due reminder")
    assert after.subject.startswith("Overdue: 2 invoices"), after.subject
    world.wait_until(lambda: len(_outbound(twilio)) == 1, timeout=30, what="the after-due text")
    (text,) = _outbound(twilio)
    assert "2 invoices" in text.body and "is overdue" in text.body and "/account" in text.body
    cycled(world, days)
    assert len(_to_customer(world)) == 4 and len(_outbound(twilio)) == 1  # one message a day

    # Day 6: L-1's final notice (L-2 due today rides along), by email and text; the account goes
    # to Ana by the company's rule, and she sees it on her phone.
    days.to(6)
    final = _wait_mail(world, 5, "the final notice")
    assert final.subject.startswith("Final notice: 2 unpaid invoices")
    world.wait_until(lambda: len(_outbound(twilio)) == 2, timeout=30, what="the final-notice text")
    assert "final notice" in _outbound(twilio)[-1].body
    world.wait_until(lambda: _account(world, customer)[0] == ANA, timeout=30, what="the collector assigned")
    ana = Collector(world)
    ana.sign_in()
    assert "Harbor Dental" in ana.page()

    # STOP typed on the phone page: syncd opts the number out before the page answers.
    stop = requests.post(twilio.phone_url(PHONE) + "/reply", data={"body": "STOP"}, timeout=10)
    assert stop.status_code in (200, 303)
    assert _opted_out(world, customer)
    assert any("no more texts" in m.body for m in twilio.sent_to(PHONE) if m.direction != "outbound-api")

    # Ana records the customer's promise to pay everything by day 8.
    ana.record(customer, "promise", {"on": days.date(8).isoformat(), "amount": "420.00"})

    # Day 8: L-2's +2 step falls due, but the promise pauses it; no hold while it is open.
    days.to(8)
    cycled(world, days)
    assert len(_to_customer(world)) == 5
    assert _account(world, customer) == (ANA, False)

    # Day 9: nothing was paid. Reminders resume (by email only: the number is opted out), staff
    # hear the promise was broken, and the customer goes on credit hold, noted on the QBO customer.
    days.to(9)
    resumed = _wait_mail(world, 6, "the reminder after the broken promise")
    assert resumed.subject.startswith("Overdue: 1 invoice") and "L-2" in (resumed.text or "")
    world.wait_until(lambda: bool(_staff(world, "Promise to pay broken")), timeout=30, what="broken promise")
    world.wait_until(lambda: _account(world, customer)[1], timeout=30, what="the credit hold")
    world.wait_until(lambda: bool(_staff(world, "credit hold")), timeout=30, what="the hold alert")
    world.wait_until(
        lambda: "on hold since" in _notes(world, customer),
        timeout=30,
        what="the hold note on the QBO customer",
    )
    page = requests.get(links.url(world.realm, second), timeout=10).text
    assert "You can pay by card on the next page." in page and "bank account" not in page
    assert len(_outbound(twilio)) == 2  # no text since STOP

    # The agency export after the ladder: both invoices, the reminders and the broken promise.
    out = tmp_path / "agency.csv"
    exported = world.syncd("collect", "export", "--company", world.realm, "--out", str(out))
    assert exported.returncode == 0 and "1 account(s) exported" in exported.stderr, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["invoice_number"] for r in rows] == ["L-1", "L-2"]
    assert {r["customer_name"] for r in rows} == {"Harbor Dental"}
    assert rows[0]["days_overdue"] == "7" and rows[0]["collector"] == ANA
    assert rows[0]["reminders_sent"] == "5" and "420.00 by" in rows[0]["promises"]
    assert "(broken)" in rows[0]["promises"]

    # Ana takes a check for L-1; the form sent twice (a double tap) books one QBO Payment.
    ana.sign_in()
    account_page = ana.page(customer)
    request_id = REQUEST_ID.search(account_page)
    assert request_id, "no request id on the payment form"
    check = {
        "invoice_id": first,
        "method": "check",
        "amount": "240.00",
        "reference": "CHK-2201",
        "request_id": request_id.group(1),
    }
    ana.record(customer, "payment", check, page=account_page)
    ana.record(customer, "payment", check, page=account_page)
    world.wait_until(lambda: bool(_payments_for(world, first)), timeout=30, what="the check in QBO")
    cycled(world, days)
    (booked,) = _payments_for(world, first)
    assert Decimal(str(booked["TotalAmt"])) == Decimal("240.00")
    assert _account(world, customer)[1]  # L-2 is still overdue: still on hold

    # The customer pays L-2 by card (the only method offered); everything overdue is paid, so
    # the hold lifts on its own and the QBO note goes.
    session_id = portal.start_payment(links.url(world.realm, second))
    session = next(s for s in world.stripe.objects("checkout.session") if s["id"] == session_id)
    assert session["payment_method_types"] == ["card"]
    world.stripe.pay_checkout(session_id, "card_success")
    world.wait_until(lambda: bool(_payments_for(world, second)), timeout=60, what="the card payment in QBO")
    world.wait_until(lambda: not _account(world, customer)[1], timeout=60, what="the hold released")
    world.wait_until(
        lambda: "on hold" not in _notes(world, customer),
        timeout=30,
        what="the hold note cleared",
    )
    assert len(_payments_for(world, first)) == 1 and len(_payments_for(world, second)) == 1
    assert len(_staff(world, "credit hold")) == 1 and len(_staff(world, "Promise to pay broken")) == 1
    assert COMPANY_NAME in final.subject
    assert proc.stop() == 0
