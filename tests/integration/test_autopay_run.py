"""Automatic payments through the real ``syncd run`` over the QBO and Stripe simulators and the SMTP
sink, the daemon's clock moved day by day with both simulators' (``SYNCD_SIMULATED_CLOCK_FILE``):
autopay enrollment on the account page with its authorisation recorded, the notice then the charge
on the due date booked once in QBO, "don't charge this one" from the notice, each kind of decline
and ``authentication_required``, a trial cancelled from its reminder, a contract-end notice, a
recurring service cancelled from the account page, an installment plan made with ``syncd plan
create`` paid to the end with one missed installment, and a card hold (``syncd authorize place``)
captured by the next invoice; then ``syncd audit`` clean. Every outcome is read from the
simulators' own state: PaymentIntents, QBO Payments and templates, the mailbox."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from autopay_scene import SKIP, attach
from method_rows import card_on_file
from sim_days import Days, cycled, world_on
from sqlalchemy import select
from world import Daemon, PortalClient, World

from syncd.clock import SIMULATED_CLOCK_ENV
from syncd.links import Links
from syncd.secrets import SecretBox
from syncd.store.models import AutopayEnrollment, MethodConsent

pytestmark = pytest.mark.slow

STAFF = "owner@northwind.test"
AGENT = "AutopayRun/1.0"
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
TRIAL_CANCEL = re.compile(r"https?://[^\s\"'<>]+/t/[A-Za-z0-9_-]{32}\?choice=cancel")
DUE = 5  # the day the autopay invoices fall due (their notices on day 2)
DECLINES = (
    # (test card, what the customer is told: a retry, autopay stopped, or a link to confirm)
    ("pm_card_chargeDeclinedInsufficientFunds", "try again"),
    ("pm_card_chargeDeclinedProcessingError", "try again"),
    ("pm_card_chargeDeclinedExpiredCard", "stopped"),
    ("pm_card_chargeDeclinedLostCard", "stopped"),
    ("pm_card_authenticationRequired", "confirm"),
)


@pytest.fixture
def days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Days:
    clock = Days(tmp_path / "clock-offset")  # day 0 is today: every signed event is fresh
    monkeypatch.setenv(SIMULATED_CLOCK_ENV, str(clock.path))  # the daemon's and the CLI's clock
    return clock


@pytest.fixture
def world(tmp_path: Path, days: Days) -> Iterator[World]:
    with world_on(days, tmp_path / "state") as made:
        yield made


@dataclass
class Customer:
    """A QBO customer with one invoice, and (when given a test card) that card on file."""

    name: str
    email: str
    qbo_id: str
    invoice_id: str
    stripe_id: str = ""
    method_id: str = ""


class Shop:
    """The company as its customers and staff meet it: QBO customers with invoices, cards on
    file at Stripe, the account page over HTTP, and the mailbox."""

    def __init__(self, world: World, days: Days) -> None:
        self.world = world
        self.days = days
        settings = world.write_config(staff_email=STAFF)
        text = world.config_path.read_text()
        # Stripe's SDK dates signed events by the real clock; day 0 is up to a day behind it.
        text = re.sub(r"(webhook_secret = .*\n)", r"\1webhook_tolerance_seconds = 86400\n", text, count=1)
        text += """
[company.autopay]
enabled = true
charge_hour = 10
notice_days = 3
retry_days = [2]

[company.recurring]
allow_cancel = true
contract_end_notice_days = 30
trial_reminder_days = 7

[company.accounts]
bank = "Checking"
"""
        world.config_path.write_text(text)
        self.links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {world.stripe.api_key}"

    @property
    def realm(self) -> str:
        return self.world.realm

    def customer(self, name: str, amount: str = "120.00", due: int = DUE) -> Customer:
        email = f"{name.lower().replace(' ', '-')}@customers.test"
        qbo_id = self.world.qbo.create_entity(
            "Customer", {"DisplayName": name, "PrimaryEmailAddr": {"Address": email}}
        )
        invoice = self.world.qbo.add_invoice(
            qbo_id, Decimal(amount), due_date=self.days.date(due), doc_number=name.split()[-1], email=email
        )
        return Customer(name, email, qbo_id, invoice)

    def card_on_file(self, who: Customer, token: str) -> str:
        """A test card attached to the customer's Stripe Customer and saved, as setup-mode
        Checkout leaves it (the daemon must have pulled the customer first)."""
        if not who.stripe_id:
            answer = self.api.post(
                f"{self.world.stripe.url}/v1/customers", data={"email": who.email}, timeout=10
            )
            who.stripe_id = answer.json()["id"]
        method = attach(self.world, token, who.stripe_id)
        db = self.world.database()
        try:
            with db.transaction() as s:
                s.add(
                    card_on_file(
                        method, self.realm, who.qbo_id, self.days(), stripe_customer_id=who.stripe_id
                    )
                )
        finally:
            db.dispose()
        who.method_id = method
        return method

    def signed_in(self, who: Customer) -> requests.Session:
        """The customer's browser, signed in to the account page through an invoice's link."""
        browser = requests.Session()
        browser.headers["User-Agent"] = AGENT
        page = browser.get(f"{self.links.url(self.realm, who.invoice_id)}/account", timeout=10)
        assert page.status_code == 200, page.text[:300]
        return browser

    def enroll(self, who: Customer, method: str, cap: str = "") -> None:
        """Autopay turned on from the account page, agreeing to the authorisation shown."""
        browser = self.signed_in(who)
        url = f"{self.world.url}/account/autopay"
        page = browser.get(url, timeout=10)
        assert page.status_code == 200 and "Turn on autopay" in page.text, page.text[:500]
        form = {"csrf_token": _token(page.text), "method": method, "cap": cap, "agree": "1"}
        done = browser.post(url, data=form, allow_redirects=False, timeout=10)
        assert done.status_code == 303, done.text[:500]

    def turn_off(self, who: Customer) -> None:
        """Autopay turned off from the account page."""
        browser = self.signed_in(who)
        page = browser.get(f"{self.world.url}/account/autopay", timeout=10)
        assert 'data-testid="autopay-on"' in page.text, page.text[:500]
        off = browser.post(
            f"{self.world.url}/account/autopay/off",
            data={"csrf_token": _token(page.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert off.status_code == 303, off.text[:500]

    def mails(self, to: str, word: str = "") -> list[Any]:
        found = [m for m in self.world.sink.mailbox.all() if to in m.to and word in m.subject]
        return sorted(found, key=lambda m: int(m.id))

    def wait_mail(self, to: str, word: str, count: int = 1) -> list[Any]:
        self.world.wait_until(
            lambda: len(self.mails(to, word)) >= count, timeout=45, what=f"{count} email(s) {word!r} to {to}"
        )
        return self.mails(to, word)

    def intents(self, invoice_id: str) -> list[dict[str, Any]]:
        return [
            i
            for i in self.world.stripe.objects("payment_intent")
            if i.get("metadata", {}).get("invoice_ids") == invoice_id
        ]

    def intents_of(self, who: Customer) -> list[dict[str, Any]]:
        return [i for i in self.world.stripe.objects("payment_intent") if i.get("customer") == who.stripe_id]

    def payments(self, invoice_id: str) -> list[Decimal]:
        """The amounts of the QBO Payments applied to the invoice."""
        return sorted(
            Decimal(str(p["TotalAmt"]))
            for p in self.world.qbo.entities("Payment")
            if any(
                t.get("TxnId") == invoice_id for line in p.get("Line", []) for t in line.get("LinkedTxn", [])
            )
        )

    def balance(self, invoice_id: str) -> Decimal:
        invoice = self.world.qbo.entity("Invoice", invoice_id)
        assert invoice is not None
        return Decimal(str(invoice["Balance"]))

    def made_from(self, template: str) -> list[dict[str, Any]]:
        return [
            i
            for i in self.world.qbo.entities("Invoice")
            if (i.get("RecurDataRef") or {}).get("value") == template
        ]

    def post_form(self, browser: requests.Session, url: str, **fields: str) -> requests.Response:
        """GET the page at ``url`` and POST its form back with its CSRF token."""
        page = browser.get(url, timeout=10)
        assert page.status_code == 200, page.text[:300]
        return browser.post(url.split("?")[0], data={"csrf_token": _token(page.text), **fields}, timeout=10)


def _token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _consents(world: World) -> dict[str, tuple[str, MethodConsent]]:
    """Each enrolled customer's payment method and recorded authorisation."""
    db = world.database()
    try:
        with db.transaction() as s:
            found = {}
            for row in s.scalars(select(AutopayEnrollment)):
                consent = s.get(MethodConsent, row.consent_reference)
                assert consent is not None
                s.expunge(consent)
                found[row.customer_id] = (row.payment_method_id, consent)
            return found
    finally:
        db.dispose()


def test_automatic_payments_under_syncd_run(
    world: World, days: Days, daemon: Callable[[], Daemon], portal: PortalClient
) -> None:
    shop = Shop(world, days)
    paid = shop.customer("Autopay A-1")
    skipper = shop.customer("Autopay A-2")
    declined = [shop.customer(f"Decline D-{n}") for n in range(len(DECLINES))]
    planned = shop.customer("Plan P-1", due=30)
    holder = shop.customer("Hold H-1", amount="60.00", due=30)
    trial = shop.customer("Trial T-1", amount="10.00", due=30)
    contract = shop.customer("Alarm K-1", amount="10.00", due=30)
    service = shop.customer("Managed R-1", amount="10.00", due=30)
    trial_id = world.qbo.add_recurring(
        trial.qbo_id, Decimal("25.00"), start=days.date(DUE), name="Cloud backup"
    )
    contract_id = world.qbo.add_recurring(
        contract.qbo_id,
        Decimal("39.00"),
        start=days.date(-70),
        end_date=days.date(20),
        name="Alarm monitoring",
    )
    service_id = world.qbo.add_recurring(
        service.qbo_id, Decimal("49.00"), start=days.date(-3), name="Managed IT"
    )
    proc = daemon()
    proc.start()

    # Day 0: the first sync emails every open invoice; then the customers turn autopay on.
    shop.wait_mail(paid.email, "")
    world.wait_until(lambda: world.company().last_pull_at is not None, timeout=45, what="the first pull")
    shop.enroll(paid, shop.card_on_file(paid, "pm_card_visa"), cap="500")
    shop.enroll(skipper, shop.card_on_file(skipper, "pm_card_visa"))
    for who, (token, _) in zip(declined, DECLINES, strict=True):
        shop.enroll(who, shop.card_on_file(who, token))
    shop.enroll(planned, shop.card_on_file(planned, "pm_card_chargeDeclinedInsufficientFunds"))
    consents = _consents(world)
    method, consent = consents[paid.qbo_id]
    assert method == paid.method_id
    assert (consent.ip, consent.user_agent) == ("127.0.0.1", AGENT)
    at = (
        consent.consented_at.replace(tzinfo=UTC)
        if consent.consented_at.tzinfo is None
        else consent.consented_at
    )
    assert abs(at - days()) < timedelta(minutes=5)  # on the daemon's clock
    assert "Visa ending 4242" in consent.text and "up to 500" in consent.text and "autopay-1" in consent.text
    assert len(consents) == 3 + len(DECLINES)

    # Staff split P-1 into a down payment on day 3 and two weekly installments.
    made = world.syncd(
        "plan", "create", "--company", shop.realm, "--invoice", "P-1", "--down", "40.00",
        "--count", "2", "--every", "week", "--start", days.date(3).isoformat(),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # Staff hold 150.00 on H-1's card before the job.
    shop.card_on_file(holder, "pm_card_visa")
    placed = world.syncd(
        "authorize", "place", "--company", shop.realm, "--customer", holder.qbo_id, "--amount", "150.00"
    )
    assert placed.returncode == 0, placed.stderr
    world.wait_until(
        lambda: [i["status"] for i in shop.intents_of(holder)] == ["requires_capture"],
        timeout=45,
        what="the hold authorised at Stripe",
    )

    # The trial's reminder (its first invoice is on day 5): cancelled from its link.
    [reminder] = shop.wait_mail(trial.email, "trial")
    found = TRIAL_CANCEL.search(reminder.text or "")
    assert found, reminder.text
    cancelled = shop.post_form(requests.Session(), found.group(0), choice="cancel")
    assert cancelled.status_code == 200 and "Your trial is cancelled" in cancelled.text
    world.wait_until(
        lambda: (
            (world.qbo.entity("RecurringTransaction", trial_id) or {})["RecurringInfo"]["Active"] is False
        ),
        timeout=45,
        what="the trial's template inactive in QBO",
    )
    # The alarm contract ends on day 20: the customer and staff are told, once.
    [ending] = shop.wait_mail(contract.email, "ends on")
    assert "Alarm monitoring" in (ending.text or "") and len(shop.made_from(contract_id)) == 3
    shop.wait_mail(STAFF, "recurring service ends")
    # R-1 cancels Managed IT from the account page (reached through the template's invoice).
    browser = shop.signed_in(service)
    world.wait_until(
        lambda: "Managed IT" in browser.get(f"{world.url}/account", timeout=10).text,
        timeout=45,
        what="the service on the account page",
    )
    done = shop.post_form(browser, f"{world.url}/account/recurring/{service_id}/cancel")
    assert done.status_code == 200 and "The service is cancelled" in done.text, done.text[:300]
    world.wait_until(
        lambda: (
            (world.qbo.entity("RecurringTransaction", service_id) or {})["RecurringInfo"]["Active"] is False
        ),
        timeout=45,
        what="the service's template inactive in QBO",
    )
    shop.wait_mail(service.email, "cancelled")
    schedule = (world.qbo.entity("RecurringTransaction", service_id) or {})["RecurringInfo"]["ScheduleInfo"]
    assert schedule["EndDate"] == days.date().isoformat()
    assert any("Managed IT" in (m.text or "") for m in shop.mails(STAFF, "recurring service"))
    cycled(world, days)
    assert not shop.mails(paid.email, "will charge")  # due in 5 days: no notice yet
    assert len(shop.mails(contract.email, "ends on")) == 1

    # Day 1: H-1's next invoice comes; it is paid from the hold, once.
    days.to(1)
    job = world.qbo.add_invoice(holder.qbo_id, Decimal("90.00"), due_date=days.date(10), email=holder.email)
    world.wait_until(lambda: shop.payments(job) == [Decimal("90.00")], timeout=60, what="the capture in QBO")
    [hold] = shop.intents_of(holder)
    assert (hold["status"], hold["amount_received"]) == ("succeeded", 9000)

    # Day 2: the notices, three days before the due date; A-2 says "don't charge this one".
    days.to(2)
    [notice] = shop.wait_mail(paid.email, "will charge")
    assert (
        "120.00" in notice.text and "Visa ending 4242" in notice.text and len(SKIP.findall(notice.text)) == 2
    )
    [skip_notice] = shop.wait_mail(skipper.email, "will charge")
    skipped = shop.post_form(requests.Session(), SKIP.findall(skip_notice.text)[0])
    assert skipped.status_code == 200 and "will not be charged automatically" in skipped.text
    for who in declined:
        shop.wait_mail(who.email, "will charge")

    # Day 3: P-1's down payment is declined (soft): retried in two days.
    days.to(3)
    [retry] = shop.wait_mail(planned.email, "Payment declined")
    assert "try again on" in retry.text
    assert shop.intents(paid.invoice_id) == []  # noticed, not yet due: nothing charged

    # Day 5, the due date: A-1 charged once and booked once; A-2 left alone; each decline handled.
    days.to(DUE)
    world.wait_until(
        lambda: shop.payments(paid.invoice_id) == [Decimal("120.00")], timeout=60, what="A-1 in QBO"
    )
    [charged] = shop.intents(paid.invoice_id)
    assert (charged["status"], charged["amount"]) == ("succeeded", 12000)
    for who, (token, word) in zip(declined, DECLINES, strict=True):
        [told] = shop.wait_mail(who.email, word)
        if word == "try again":  # a new notice for the retry, its own skip links
            assert len(SKIP.findall(told.text)) == 2, token
        elif word == "stopped":  # autopay off for the card, a link to give a new one
            assert "/c/" in told.text, token
            page = shop.signed_in(who).get(f"{world.url}/account/autopay", timeout=10).text
            assert "Autopay is <strong>off</strong>" in page, token
        else:  # authentication_required: finish the payment on the invoice's page, on-session
            [link] = world.portal_links(told.text)
            assert link == shop.links.url(shop.realm, who.invoice_id), token
            page = requests.get(link, timeout=10)
            assert page.status_code == 200 and 'name="csrf_token"' in page.text, token
        assert [i["status"] for i in shop.intents(who.invoice_id)] != ["succeeded"], token
    # P-1's retry declined too: the down payment is missed; the customer and staff are told.
    [missed] = shop.wait_mail(planned.email, "Installment missed")
    shop.wait_mail(STAFF, "Installment missed")
    link = shop.links.url(shop.realm, planned.invoice_id)
    assert link in missed.text
    # The customer pays the missed 40.00 from the link, and turns autopay off and on again with a
    # working card (a new authorisation).
    session = portal.start_payment(link, "40.00")
    world.stripe.pay_checkout(session, "card_success")
    world.wait_until(
        lambda: shop.payments(planned.invoice_id) == [Decimal("40.00")], timeout=60, what="P-1 down"
    )
    shop.turn_off(planned)
    shop.enroll(planned, shop.card_on_file(planned, "pm_card_visa"))

    # Day 7: the soft declines' retries fail again; nothing more is tried.
    days.to(7)
    retried = [
        who.invoice_id for who, (_, word) in zip(declined, DECLINES, strict=True) if word == "try again"
    ]
    world.wait_until(
        lambda: all(len(shop.intents(invoice)) == 2 for invoice in retried), timeout=45, what="the retries"
    )
    for who, (_, word) in zip(declined, DECLINES, strict=True):
        if word == "try again":  # no retry left: the customer is told it did not go through
            shop.wait_mail(who.email, "did not go through")
    for day in (10, 14, 17):  # P-1's installments: charged on 10 and 17, each after its notice
        days.to(day)
        cycled(world, days)
    world.wait_until(
        lambda: shop.payments(planned.invoice_id) == [Decimal("40.00")] * 3,
        timeout=60,
        what="P-1 paid to the end",
    )
    assert shop.balance(planned.invoice_id) == 0
    assert len(shop.mails(planned.email, "Installment missed")) == 1

    # Everything settled: each invoice charged and booked at most once, nothing charged that was
    # skipped, declined or cancelled; the trial never made an invoice.
    assert shop.intents(skipper.invoice_id) == [] and shop.payments(skipper.invoice_id) == []
    for who, (token, word) in zip(declined, DECLINES, strict=True):
        tries = shop.intents(who.invoice_id)
        assert len(tries) == (2 if word == "try again" else 1), token
        assert all(i["status"] != "succeeded" for i in tries) and shop.payments(who.invoice_id) == [], token
    assert len(shop.intents(paid.invoice_id)) == 1 and shop.payments(paid.invoice_id) == [Decimal("120.00")]
    succeeded = [i for i in shop.intents(planned.invoice_id) if i["status"] == "succeeded"]
    assert sorted(i["amount"] for i in succeeded) == [4000, 4000, 4000], shop.intents(planned.invoice_id)
    assert shop.made_from(trial_id) == []
    assert len(shop.made_from(service_id)) == 1
    assert [i["id"] for i in shop.intents_of(holder)] == [hold["id"]]
    assert shop.payments(job) == [Decimal("90.00")] and shop.payments(holder.invoice_id) == []
    audit = world.syncd(
        "audit", "--company", shop.realm, "--from", days.date(-1).isoformat(),
        "--to", days.date(days.day + 1).isoformat(), "--json", timeout=180,
    )  # fmt: skip
    report = json.loads(audit.stdout)
    assert audit.returncode == 0 and report["clean"], audit.stdout
    assert proc.stop() == 0
