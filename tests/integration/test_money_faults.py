"""Money under fire: ``syncd run`` SIGKILLed at random moments of a run of 1,000 mixed money
movements (card and ACH payments, partials, refunds, disputes, ACH returns, payouts) while both
simulators answer some calls with 5xx and 429 and Stripe duplicates and reorders webhooks; QBO's
webhooks are lost (only the periodic pull sees a change), some invoices are lowered, paid by check
or voided in QBO while their Checkout Session is open, some are paid in parts as a backlog the
daemon meets on restart, some get Pay pressed in several tabs with different amounts through the
daemon's portal (the customer then tries every page they were given), and some syncd Payments are
deleted in QBO (held for review until staff rebook them). After the last restart the books must
audit clean with zero duplicate QBO entries, no charge without its QBO Payment and no customer
charged more than their invoice's balance plus what a page paid while syncd closed it took.

A due day of automatic charges meets the same: enrolled customers noticed three days before, some
invoices voided, paid or lowered in QBO since (unannounced), some charges skipped or autopay turned
off from the notice; the daemon is killed while it charges, Stripe enforces its rate limits and
fails some calls. Installment plans' down payments fall on the same day (some plans' invoices
voided or paid in QBO since their notice, one plan cancelled by staff), and card holds placed
before the day are captured by the customers' next invoices (some of those voided or paid first).
Each invoice gets at most one PaymentIntent, none of the cancelled ones any, a lowered one never
more than is left, an installment exactly its amount, a hold exactly the invoice it pays, and the
books audit clean."""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest
import requests
from autopay_scene import enroll_customer
from method_rows import card_on_file
from overcharge import overcharges
from sqlalchemy import func, select
from world import Daemon, World

from connectors.quickbooks import limits as qbo_limits
from connectors.stripe.client import StripeConnector
from connectors.stripe.simulator.errors import ApiError
from syncd.audit import run_audit
from syncd.bootstrap import build_context
from syncd.cli import main as cli_main
from syncd.companies import ensure_companies
from syncd.config import Settings, load
from syncd.context import Context
from syncd.domain.plans import Cadence
from syncd.errors import TransientError
from syncd.links import Links
from syncd.secrets import SecretBox
from syncd.stages import authorizations, autopay, plans
from syncd.stages.autopay import link_token
from syncd.stages.autopay_account import AutopayService
from syncd.stages.collect import open_attempt
from syncd.stages.pull import pull
from syncd.store import autopay as autopay_store
from syncd.store.models import AutopayCharge, Effect, EntryReview, InboxEvent, InvoiceRow, PaymentRow

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SEED = 5_2026
MOVEMENTS = int(os.environ.get("SYNCD_FAULT_MOVEMENTS", "1000"))
KILLS = 12
QUIET_TIMEOUT = 420.0
CENT = Decimal("0.01")
STAFF = "staff@northwind.test"
DELETED = 4  # syncd Payments the bookkeeper deletes in QBO
CHECKOUT_SESSION = re.compile(r"/(cs_[A-Za-z0-9_]+)")
T = TypeVar("T")


def _retry(fn: Callable[[], T], attempts: int = 20) -> T:
    """The test's own Stripe calls meet the same injected faults: try again."""
    for _ in range(attempts - 1):
        try:
            return fn()
        except TransientError:
            time.sleep(0.05)
    return fn()


class Run:
    """The driver: what has been paid, refunded and disputed, and the daemon to kill."""

    def __init__(self, world: World, settings: Settings, proc: Daemon, rng: random.Random) -> None:
        self.world = world
        self.settings = settings
        self.proc = proc
        self.rng = rng
        self.db = world.database()
        self.stripe = StripeConnector(settings.stripe)
        self.realm = world.qbo.realm_id
        self.kills = 0
        self.card: list[tuple[str, Decimal]] = []  # succeeded card intents and their amounts
        self.refunded: dict[str, Decimal] = {}
        self.disputes: list[str] = []
        self.races: dict[str, tuple[InvoiceRow, str]] = {}  # payment key -> (invoice, QBO change)
        self.tabs: list[InvoiceRow] = []  # invoices with Pay pressed in several tabs
        self.opened: dict[str, Decimal] = {}  # invoice -> highest balance when a session was opened
        self.deleted: dict[str, str] = {}  # deleted QBO Payment id -> its invoice
        self.held: set[str] = set()  # payment intents whose QBO Payment was deleted
        self.raced = Counter[str]()
        self.links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
        self.http = requests.Session()

    def maybe_crash(self, chance: float) -> None:
        if self.kills < KILLS and self.rng.random() < chance:
            time.sleep(self.rng.uniform(0.0, 0.6))
            self.proc.kill()
            self.kills += 1
            time.sleep(self.rng.uniform(0.0, 0.5))  # webhooks meet a closed port meanwhile
            t = time.monotonic()
            self.proc.start(ready_timeout=60)
            print("restart", time.monotonic() - t, flush=True)

    def movements(self) -> int:
        return sum(1 for _ in self.world.stripe.objects("balance_transaction"))

    def open_invoices(self) -> list[InvoiceRow]:
        with self.db.transaction() as s:
            rows = list(s.scalars(select(InvoiceRow).where(InvoiceRow.status == "open")))
            for r in rows:
                s.expunge(r)
            return rows

    def opening(self, inv: InvoiceRow) -> None:
        self.opened[inv.qbo_id] = max(self.opened.get(inv.qbo_id, Decimal(0)), inv.balance)

    def start_payments(self, invoices: list[InvoiceRow]) -> list[str]:
        """What the portal does on Pay, in bulk: a payment row and its checkout effect. Some
        invoices change in QBO before they are paid; some get Pay pressed in several tabs (left
        for ``pay_in_tabs``, through the daemon's portal)."""
        keys = []
        with self.db.transaction() as s:
            now = self.world.stripe.clock.now()
            for inv in invoices:
                roll = self.rng.random()
                if roll < 0.05 and inv.balance >= 5:
                    self.tabs.append(inv)
                    continue
                self.opening(inv)
                partial = roll > 0.8 and inv.balance > 2
                amount = (inv.balance / 2).quantize(Decimal("0.01")) if partial else inv.balance
                key = f"pay:{self.realm}:{inv.qbo_id}:fault"
                open_attempt(s, key=key, invoices=[inv], amount=amount, now=now)
                keys.append(key)
                if roll < 0.14:
                    self.races[key] = (inv, self.rng.choice(["lowered", "paid_offline", "voided"]))
        return keys

    def change_in_qbo(self, inv: InvoiceRow, how: str) -> None:
        """The bookkeeper's change while the customer is on Checkout (no webhook tells syncd)."""
        qbo = self.world.qbo
        if how == "voided":
            qbo.void_invoice(inv.qbo_id)
        elif how == "paid_offline":
            qbo.record_offline_payment(inv.qbo_id, max(Decimal("0.01"), (inv.balance / 3).quantize(CENT)))
        else:
            lowered = max(Decimal("1.00"), (inv.balance / 2).quantize(CENT))
            line = {**qbo.entity("Invoice", inv.qbo_id)["Line"][0], "Amount": lowered}
            line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": lowered}
            qbo.update_invoice(inv.qbo_id, Line=[line])
        self.raced[how] += 1

    def backlog_after_restart(self, invoices: list[InvoiceRow]) -> None:
        """Each invoice paid in three parts while the daemon is down, one of them also by a check
        recorded in QBO meanwhile: a backlog (more than is open) meets the restart."""
        keys = []
        with self.db.transaction() as s:
            now = self.world.stripe.clock.now()
            for inv in invoices:
                self.opening(inv)
                part = (inv.balance / 3).quantize(CENT)
                for tab, amount in enumerate([part, part, inv.balance - 2 * part]):
                    key = f"pay:{self.realm}:{inv.qbo_id}:fault:part{tab}"
                    open_attempt(s, key=key, invoices=[inv], amount=amount, now=now)
                    keys.append(key)
        deadline = time.monotonic() + 120
        while len(self.sessions(keys)) < len(keys):
            assert time.monotonic() < deadline, f"checkouts never opened:\n{self.proc.tail()}"
            time.sleep(0.2)
        self.proc.kill()
        self.kills += 1
        self.world.qbo.record_offline_payment(invoices[0].qbo_id, (invoices[0].balance / 3).quantize(CENT))
        for session_id in self.sessions(keys).values():
            _retry(lambda sid=session_id: self.world.stripe.pay_checkout(sid, "card_success"))
        self.proc.start(ready_timeout=60)

    def sessions(self, keys: list[str]) -> dict[str, str]:
        with self.db.transaction() as s:
            rows = s.execute(
                select(PaymentRow.key, PaymentRow.checkout_session_id).where(PaymentRow.key.in_(keys))
            ).all()
        return {k: sid for k, sid in rows if sid}

    def pay(self, keys: list[str]) -> None:
        outcomes = ["card_success"] * 7 + ["ach_success", "ach_success", "ach_return", "ach_failure"]
        left = set(keys)
        deadline = time.monotonic() + 120
        while left:
            assert time.monotonic() < deadline, f"{len(left)} checkouts never opened:\n{self.proc.tail()}"
            ready = self.sessions(sorted(left))
            for key, session_id in ready.items():
                outcome = self.rng.choice(outcomes)
                left.discard(key)
                if key in self.races:
                    self.change_in_qbo(*self.races[key])
                    try:  # unless the periodic pull saw the change first and expired the session
                        self.world.stripe.pay_checkout(session_id, "card_success")
                    except ApiError:  # an expired session refuses payment
                        self.raced["expired_first"] += 1
                    continue
                self.world.stripe.pay_checkout(session_id, outcome)
            time.sleep(0.2)

    def press_pay(self, inv: InvoiceRow, amount: Decimal) -> str:
        """Pay pressed on the invoice's page of the running daemon; a 503 (a fault met while
        closing the older page) is pressed again, as a customer would."""
        url = self.links.url(self.realm, inv.qbo_id)
        for _ in range(30):
            page = self.http.get(url, timeout=10)
            csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"', page.text)
            if page.status_code == 200 and csrf:
                form = {"csrf_token": csrf.group(1), "amount": str(amount)}
                answer = self.http.post(f"{url}/pay", data=form, allow_redirects=False, timeout=30)
                found = CHECKOUT_SESSION.search(answer.headers.get("location", ""))
                if answer.status_code == 303 and found:
                    return found.group(1)
            time.sleep(0.3)
        raise AssertionError(f"Pay on {url} never led to Checkout:\n{self.proc.tail()}")

    def pay_in_tabs(self) -> None:
        """Pay pressed with 2-3 different amounts (the last the whole balance); the customer then
        pays every page: all but the last are refused by Stripe, expired."""
        for inv in self.tabs:
            self.opening(inv)
            part = (inv.balance / 3).quantize(CENT)
            amounts = [part, 2 * part, inv.balance][-self.rng.randint(2, 3) :]
            sessions = [self.press_pay(inv, amount) for amount in amounts]
            assert len(set(sessions)) == len(sessions), sessions
            for old in sessions[:-1]:
                with pytest.raises(ApiError, match="expired"):
                    self.world.stripe.pay_checkout(old, "card_success")
            self.world.stripe.pay_checkout(sessions[-1], "card_success")
            self.raced["tabs"] += 1

    def deletable(self) -> list[tuple[str, str, str]]:
        """(intent, QBO Payment, invoice) of booked single-invoice card payments no refund,
        dispute or QBO change touched."""
        taken = self.disputed_intents() | set(self.refunded)
        cards = {intent for intent, _, _ in self.succeeded_cards()} - taken
        raced = {inv.qbo_id for inv, _ in self.races.values()}
        with self.db.transaction() as s:
            rows = s.execute(
                select(PaymentRow.payment_intent_id, PaymentRow.qbo_payment_id, PaymentRow.invoice_ids).where(
                    PaymentRow.key.like("%:fault"),
                    PaymentRow.status == "succeeded",
                    PaymentRow.qbo_payment_id.is_not(None),
                )
            ).all()
        return [
            (str(intent), str(entry), str(invoices[0]))
            for intent, entry, invoices in rows
            if intent in cards and len(invoices) == 1 and invoices[0] not in raced
        ]

    def delete_payments(self, n: int) -> None:
        """The bookkeeper deletes syncd Payments in QBO (no webhook: the periodic pull finds it)."""
        self.world.wait_until(
            lambda: len(self.deletable()) >= n, timeout=120, what=f"{n} booked card payments"
        )
        for intent, entry, invoice_id in self.rng.sample(sorted(self.deletable()), n):
            self.world.qbo.delete_entity("Payment", entry)
            self.deleted[entry] = invoice_id
            self.held.add(intent)

    def reviews(self) -> set[str]:
        with self.db.transaction() as s:
            return set(
                s.scalars(select(EntryReview.qbo_payment_id).where(EntryReview.status == "open")).all()
            )

    def check_held(self) -> None:
        """Each deleted Payment's invoice is held: its page says so and refuses Pay."""
        self.world.wait_until(
            lambda: set(self.deleted) <= self.reviews(),
            timeout=120,
            what=lambda: f"reviews for {sorted(self.deleted)}: {sorted(self.reviews())}\n{self.proc.tail()}",
        )
        sessions = len(self.world.stripe.objects("checkout.session"))
        for invoice_id in self.deleted.values():
            url = self.links.url(self.realm, invoice_id)
            page = self.http.get(url, timeout=10)
            assert "being reviewed" in page.text and "csrf_token" not in page.text
            refused = self.http.post(
                f"{url}/pay", data={"csrf_token": "x"}, allow_redirects=False, timeout=10
            )
            assert refused.status_code != 303
        assert len(self.world.stripe.objects("checkout.session")) == sessions
        self.raced["deleted"] += len(self.deleted)

    def told_once(self) -> None:
        """One staff email per deleted entry (a resend after a kill carries the same Message-ID)."""
        for entry in self.deleted:
            told = {
                m.message_id
                for m in self.world.sink.mailbox.all()
                if STAFF in m.to and f"QuickBooks Payment {entry} was" in (m.subject or "")
            }
            assert len(told) == 1, (entry, told)

    def unbooked(self) -> list[str]:
        """Charges Stripe took whose syncd payment has no QBO Payment."""
        taken = {
            str(ch["payment_intent"])
            for ch in self.world.stripe.objects("charge")
            if ch["status"] == "succeeded"
        }
        with self.db.transaction() as s:
            booked = set(
                s.scalars(select(PaymentRow.payment_intent_id).where(PaymentRow.qbo_payment_id.is_not(None)))
            )
        return sorted(taken - booked)

    def succeeded_cards(self) -> list[tuple[str, Decimal, str]]:
        """(payment intent, amount, charge) of every card charge that went through."""
        return [
            (str(ch["payment_intent"]), Decimal(ch["amount"]) / 100, str(ch["id"]))
            for ch in self.world.stripe.objects("charge")
            if ch["status"] == "succeeded" and ch["payment_method_details"]["type"] == "card"
        ]

    def refund_some(self, n: int) -> None:
        cards = [c for c in self.succeeded_cards() if c[0] not in self.disputed_intents() | self.held]
        for intent, amount, _ in self.rng.sample(cards, min(n, len(cards))):
            left = amount - self.refunded.get(intent, Decimal(0))
            if left <= Decimal("0.50"):
                continue
            part = (
                left
                if self.rng.random() < 0.4
                else (left * Decimal(self.rng.randint(10, 60)) / 100).quantize(Decimal("0.01"))
            )
            key = f"fault-refund-{intent}-{len(self.refunded)}-{part}"

            def refund(i: str = intent, p: Decimal = part, k: str = key) -> object:
                return self.stripe.refund(payment_intent_id=i, amount=p, metadata={}, idempotency_key=k)

            _retry(refund)
            self.refunded[intent] = self.refunded.get(intent, Decimal(0)) + part

    def disputed_intents(self) -> set[str]:
        return {str(d["payment_intent"]) for d in self.world.stripe.objects("dispute")}

    def dispute_some(self, n: int) -> None:
        taken = self.disputed_intents() | set(self.refunded) | self.held
        cards = [c for c in self.succeeded_cards() if c[0] not in taken]
        for _, _, charge in self.rng.sample(cards, min(n, len(cards))):
            self.disputes.append(self.world.stripe.open_dispute(charge))

    def close_some(self, n: int) -> None:
        for dispute in self.rng.sample(self.disputes, min(n, len(self.disputes))):
            self.world.stripe.close_dispute(dispute, won=self.rng.random() < 0.6)
            self.disputes.remove(dispute)

    def pending(self, ctx: Context, first: date, last: date) -> list[str]:
        """What keeps the run from being done: queued work, or an audit (from syncd's own record)
        that is not clean yet."""
        with self.db.transaction() as s:
            statuses = dict(s.execute(select(Effect.status, func.count()).group_by(Effect.status)).all())
            backlog = s.scalar(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.processed_at.is_(None))
            )
        left = []
        if statuses.get("pending"):
            left.append(f"{statuses['pending']} effects pending")
        if backlog:
            left.append(f"{backlog} events unprocessed")
        if not left:
            report = run_audit(ctx, self.realm, first, last, verify_qbo=False)
            left.extend(d.line() for d in report.differences[:5])
        return left


def _configure(world: World, *, refunds_reopen: bool) -> Settings:
    world.write_config(staff_email=STAFF)
    text = world.config_path.read_text()
    text = text.replace(
        "reminder_days = []",
        'reminder_days = []\nnotify_new_invoices = false\nlink_writeback = "off"\n'
        f"refund_reopens_invoice = {'true' if refunds_reopen else 'false'}",
    )
    # Payouts go to a bank account of their own currency (a CAD one would otherwise be held).
    world.qbo.create_entity(
        "Account", {"Name": "Checking CAD", "AccountType": "Bank", "CurrencyRef": {"value": "CAD"}}
    )
    text += '\n[company.accounts]\nbank = "Checking"\nbanks = { CAD = "Checking CAD" }\n'
    world.config_path.write_text(text)
    return load(world.config_path)


def _seed_invoices(world: World, rng: random.Random, n: int) -> None:
    customers = [c["Id"] for c in world.qbo.entities("Customer") if c.get("Active", True)]
    for _ in range(n):
        amount = Decimal(rng.randint(500, 90_000)) / 100
        world.qbo.add_invoice(rng.choice(customers), amount)


@pytest.mark.parametrize("refunds_reopen", [False, True], ids=["refund-receipts", "refunds-reopen"])
def test_kills_and_faults_during_a_thousand_money_movements_leave_the_books_clean(
    world: World, daemon: Callable[[], Daemon], refunds_reopen: bool
) -> None:
    rng = random.Random(SEED)
    started = world.stripe.clock.now().date()
    payments = max(20, MOVEMENTS * 3 // 5)
    _seed_invoices(world, rng, payments)
    settings = _configure(world, refunds_reopen=refunds_reopen)
    world.qbo.limits.per_minute = 1_000_000  # the daemon paces itself; the run must not take hours
    T0 = time.monotonic()
    proc = daemon()
    proc.start(ready_timeout=60)
    run = Run(world, settings, proc, rng)
    world.wait_until(
        lambda: len(run.open_invoices()) >= payments, timeout=120, what=f"{payments} invoices mirrored"
    )
    print("mirrored", time.monotonic() - T0, flush=True)
    world.qbo.set_webhook_url(None)  # QBO's webhooks are lost: only the periodic pull sees changes
    world.stripe.webhooks.duplicate = True
    world.stripe.webhooks.reorder = True
    world.stripe.faults.error_rate = 0.03
    world.qbo.faults.error_rate = 0.03

    invoices = run.open_invoices()[:payments]
    run.backlog_after_restart(invoices[-3:])
    invoices = invoices[:-3]
    for start in range(0, len(invoices), 50):
        run.pay(run.start_payments(invoices[start : start + 50]))
        world.stripe.faults.throttle_next(rng.randint(0, 5))
        world.qbo.faults.throttle_next(rng.randint(0, 5))
        run.maybe_crash(0.45)
    run.pay_in_tabs()
    run.delete_payments(DELETED)
    run.check_held()
    print("paid", time.monotonic() - T0, flush=True)
    refunds, disputes = MOVEMENTS // 5, MOVEMENTS // 14
    for _ in range(12):
        run.refund_some(refunds // 12 + 1)
        run.dispute_some(disputes // 12 + 1)
        run.close_some(disputes // 20 + 1)
        run.maybe_crash(0.4)
        world.stripe.clock.advance(timedelta(days=1))  # ACH settles and returns, payouts
    for _ in range(20):  # top up to the full count with refunds and disputes on what was paid
        if run.movements() >= MOVEMENTS:
            break
        run.refund_some(max(10, (MOVEMENTS - run.movements()) // 2))
        run.dispute_some(5)
    while run.kills < KILLS:
        run.maybe_crash(1.0)

    print("driven", time.monotonic() - T0, flush=True)
    world.stripe.faults.reset()
    world.qbo.faults.reset()
    with contextlib.suppress(TimeoutError):  # a backlog of retried deliveries: backfill covers it
        world.stripe.webhooks.flush(timeout=10)
    # This process reads every QBO entry back for the audit: unthrottled, it takes seconds.
    qbo_limits._registry[run.realm] = qbo_limits.CompanyLimits(
        requests=qbo_limits.TokenBucket(1_000_000, 1.0),
        batches=qbo_limits.TokenBucket(1_000_000, 1.0),
        in_flight=threading.BoundedSemaphore(10),
    )
    ctx = build_context(settings)
    first = started - timedelta(days=1)
    last = world.stripe.clock.now().date() + timedelta(days=1)

    def quiet() -> bool:
        left = run.pending(ctx, first, last)
        print("pending", round(time.monotonic() - T0), left, flush=True)
        return not left

    try:
        world.wait_until(
            quiet,
            timeout=QUIET_TIMEOUT,
            interval=5.0,
            what=lambda: f"quiescence: {run.pending(ctx, first, last)}\n{proc.tail()}",
        )
        print("quiet", time.monotonic() - T0, flush=True)
        # Reading QBO, the audit lists each deleted Payment (a charge with no entry); staff rebook
        # them as the email tells them to, and the daemon writes them again.
        listed = run_audit(ctx, run.realm, first, last)
        for entry in run.deleted:
            assert any(f"Payment {entry} " in d.line() for d in listed.differences), listed.to_text()
            rebook = [
                "--config",
                str(world.config_path),
                "entries",
                "--company",
                run.realm,
                "--rebook",
                entry,
            ]
            assert cli_main.run(rebook) == 0
        world.wait_until(
            quiet,
            timeout=120,
            interval=2.0,
            what=lambda: f"rebooked: {run.pending(ctx, first, last)}\n{proc.tail()}",
        )
        assert proc.stop() == 0, proc.tail()
        report = run_audit(ctx, run.realm, first, last)
    finally:
        ctx.db.dispose()
    print("audited", time.monotonic() - T0, flush=True)
    assert report.clean, report.to_text()
    assert run.kills == KILLS
    assert run.movements() >= MOVEMENTS, run.movements()

    # Zero duplicate QBO entries: each names its Stripe object in PrivateNote.
    for entity in ("Payment", "Purchase", "Transfer", "RefundReceipt", "Deposit"):
        notes = Counter(str(e.get("PrivateNote")) for e in world.qbo.entities(entity))
        dupes = {k: v for k, v in notes.items() if v > 1 and "Stripe" in k}
        assert not dupes, f"duplicate {entity} entries: {dupes}"
    if refunds_reopen:
        # Each refund came off its Payment once: one marker per refund, no receipt instead.
        markers = Counter(
            marker
            for e in world.qbo.entities("Payment")
            for marker in re.findall(r"\[(re_\w+)\]", str(e.get("PrivateNote")))
        )
        assert len(markers) == len(world.stripe.objects("refund")), markers
        assert max(markers.values()) == 1 and not world.qbo.entities("RefundReceipt")
    with run.db.transaction() as s:
        failed = s.scalars(select(Effect).where(Effect.status == "failed")).all()
        assert not failed, [(e.key, e.last_error) for e in failed]
    assert not run.unbooked(), f"charges without a QBO Payment: {run.unbooked()}"
    with run.db.transaction() as s:
        over = overcharges(world.stripe, s, run.opened)
        late = s.scalar(select(func.count()).where(Effect.key.like("email:staff:late-checkout:%")))
    assert not over, over
    run.raced["paid_while_closing"] = int(late or 0)
    run.told_once()
    print("raced", dict(run.raced), flush=True)
    assert run.raced["lowered"] and run.raced["paid_offline"] and run.raced["voided"]
    assert run.raced["tabs"] and run.raced["deleted"] == DELETED

    # ... and the command a bookkeeper runs (entries trusted from syncd's record this time).
    args = ["--config", str(world.config_path), "audit", "--company", run.realm]
    dates = ["--from", first.isoformat(), "--to", last.isoformat(), "--no-qbo-reads"]
    assert cli_main.run([*args, *dates]) == 0


# -- a due day of automatic charges ----------------------------------------------------------------

AUTOPAY_CUSTOMERS = 60
AUTOPAY_KILLS = 5
AUTOPAY = "[company.autopay]\nenabled = true\ncharge_hour = 0\nnotice_days = 3\nretry_days = []\n"
PLAN_CUSTOMERS = 10  # 3 of them voided, paid or cancelled before the due day
HOLD_CUSTOMERS = 8  # 2 of their next invoices voided or paid before the capture
HOLD = Decimal("400.00")


class DueDay:
    """Enrolled customers, each with one invoice due today whose notice went out three days ago,
    and what happened to some of those invoices before today: voided, paid or lowered in QBO
    (no webhook tells syncd), skipped or autopay turned off from the notice.

    Autopay is one kind of scheduled charge; installment plans and authorisation holds (built
    next) add theirs in ``plan`` beside it, name the items they must never charge in
    ``never_charged`` and the amounts they must charge in ``expected``; the checks are shared."""

    def __init__(self, world: World, settings: Settings, rng: random.Random) -> None:
        self.world = world
        self.realm = world.qbo.realm_id
        self.rng = rng
        self.today = datetime.now(UTC).date()
        noticed = datetime.now(UTC) - timedelta(days=3)
        # syncd as it ran three days ago: the mirror, the enrollments, the notices.
        self.before = build_context(settings, clock=lambda: noticed)
        self.invoices: dict[str, str] = {}  # autopay invoice -> QBO customer
        self.expected: dict[str, Decimal] = {}  # invoice -> the one amount it must be charged
        self.never_charged: dict[str, str] = {}  # invoice -> why
        self.lowered: dict[str, Decimal] = {}  # invoice -> the most it may be charged today
        self.planned: dict[str, int] = {}  # invoice -> its installment plan
        self.held: dict[str, str] = {}  # invoice -> the card hold it is to be captured from

    def plan(self) -> None:
        qbo = self.world.qbo
        for n in range(AUTOPAY_CUSTOMERS):
            email = f"auto{n}@example.com"
            customer = qbo.create_entity(
                "Customer", {"DisplayName": f"Autopay {n}", "PrimaryEmailAddr": {"Address": email}}
            )
            amount = Decimal(self.rng.randint(2_000, 40_000)) / 100
            invoice = qbo.add_invoice(customer, amount, due_date=self.today, email=email)
            self.invoices[invoice] = customer
            self.expected[invoice] = amount
        ctx = self.before
        ensure_companies(ctx)
        pull(ctx, self.realm)
        with ctx.db.transaction() as s:
            for customer in self.invoices.values():
                cus, method = self.world.stripe.save_method(f"Autopay {customer}")
                s.add(card_on_file(method, self.realm, customer, ctx.clock(), stripe_customer_id=cus))
                enroll_customer(s, self.realm, customer, method, ctx.clock())
        queued = autopay.run(ctx, self.realm)
        assert queued == AUTOPAY_CUSTOMERS, queued  # one notice each, the charge scheduled today
        self.plan_installments()
        self.place_holds()

    def _customer(self, name: str) -> str:
        """A QBO customer mirrored by syncd, with a Visa on file."""
        made = self.world.qbo.create_entity(
            "Customer",
            {"DisplayName": name, "PrimaryEmailAddr": {"Address": f"{name.replace(' ', '')}@example.com"}},
        )
        return str(made)

    def plan_installments(self) -> None:
        """Enrolled customers whose invoice (due in a month, so autopay leaves it) staff split
        three days ago: the down payment today (its notice sent then), two weekly installments."""
        ctx, qbo = self.before, self.world.qbo
        made: dict[str, str] = {}
        for n in range(PLAN_CUSTOMERS):
            customer = self._customer(f"Plan {n}")
            amount = Decimal(self.rng.randint(6_000, 60_000)) / 100
            made[qbo.add_invoice(customer, amount, due_date=self.today + timedelta(days=30))] = customer
        pull(ctx, self.realm)
        with ctx.db.transaction() as s:
            for customer in made.values():
                cus, method = self.world.stripe.save_method(f"Plan {customer}")
                s.add(card_on_file(method, self.realm, customer, ctx.clock(), stripe_customer_id=cus))
                enroll_customer(s, self.realm, customer, method, ctx.clock())
        for invoice in made:
            down = Decimal(self.rng.randint(1_000, 4_000)) / 100
            self.planned[invoice] = plans.create(
                ctx, self.realm, invoice, down=down, count=2, every=Cadence.WEEK, start=self.today
            )
            self.expected[invoice] = down
        assert plans.run(ctx, self.realm) == PLAN_CUSTOMERS  # each down payment's notice

    def place_holds(self) -> None:
        """Customers with a card on file on whom staff placed a hold three days ago; each has a
        new invoice today, which the hold pays."""
        ctx, qbo = self.before, self.world.qbo
        customers = [self._customer(f"Hold {n}") for n in range(HOLD_CUSTOMERS)]
        pull(ctx, self.realm)
        with ctx.db.transaction() as s:
            for customer in customers:
                cus, method = self.world.stripe.save_method(f"Hold {customer}")
                s.add(
                    card_on_file(
                        method, self.realm, customer, ctx.clock(), stripe_customer_id=cus, is_default=True
                    )
                )
        holds = [authorizations.place(ctx, self.realm, customer, HOLD, None) for customer in customers]
        for customer, hold in zip(customers, holds, strict=True):
            amount = Decimal(self.rng.randint(2_000, 39_000)) / 100
            invoice = qbo.add_invoice(customer, amount, due_date=self.today + timedelta(days=30))
            self.held[invoice] = hold
            self.expected[invoice] = amount

    def change_before_the_due_day(self) -> None:
        """The bookkeeper's and the customers' doings since the notices (QBO's webhooks lost)."""
        self.world.qbo.set_webhook_url(None)
        ids = sorted(self.invoices, key=int)
        self.rng.shuffle(ids)
        voided, paid, lowered, skipped, stopped = ids[:5], ids[5:10], ids[10:15], ids[15:19], ids[19:22]
        for invoice in voided:
            self.world.qbo.void_invoice(invoice)
            self.never_charged[invoice] = "voided"
        for invoice in paid:
            self.world.qbo.record_offline_payment(invoice, self.expected[invoice])
            self.never_charged[invoice] = "paid"
        for invoice in lowered:
            part = (self.expected[invoice] / 4).quantize(CENT)
            self.world.qbo.record_offline_payment(invoice, part)
            # A new notice and a later day once the mirror sees it; charged before, only what is left.
            self.lowered[invoice] = self.expected.pop(invoice) - part
        planned = sorted(self.planned, key=int)
        self.rng.shuffle(planned)
        plan_voided, plan_paid, plan_cancelled = planned[:1], planned[1:2], planned[2:3]
        for invoice in plan_voided:
            self.world.qbo.void_invoice(invoice)
            self.never_charged[invoice] = "voided (in a plan)"
        for invoice in plan_paid:
            balance = Decimal(str((self.world.qbo.entity("Invoice", invoice) or {})["Balance"]))
            self.world.qbo.record_offline_payment(invoice, balance)
            self.never_charged[invoice] = "paid (in a plan)"
        for invoice in plan_cancelled:
            plans.cancel(self.before, self.realm, self.planned[invoice])
            self.never_charged[invoice] = "its plan cancelled"
        held = sorted(self.held, key=int)
        self.rng.shuffle(held)
        for invoice in held[:1]:
            self.world.qbo.void_invoice(invoice)
            self.never_charged[invoice] = "voided (a hold's next invoice)"
        for invoice in held[1:2]:
            self.world.qbo.record_offline_payment(invoice, self.expected[invoice])
            self.never_charged[invoice] = "paid (a hold's next invoice)"
        service = AutopayService(self.before)
        for purpose, chosen in (("skip", skipped), ("stop", stopped)):
            for invoice in chosen:
                key = self.charge_key(invoice)
                assert service.use_link(link_token(self.before, self.realm, purpose, key)) is not None
                self.never_charged[invoice] = f"{purpose} from the notice"
        for invoice in self.never_charged:
            self.expected.pop(invoice, None)

    def charge_key(self, invoice: str) -> str:
        with self.before.db.transaction() as s:
            (row,) = autopay_store.charges_of(s, self.realm, invoice)
            return row.key

    def intents(self) -> dict[str, list[dict[str, object]]]:
        """Every PaymentIntent Stripe holds, by the invoice its metadata names (a hold's once it
        is captured; an uncaptured hold's by its own id)."""
        found: dict[str, list[dict[str, object]]] = {}
        for intent in self.world.stripe.objects("payment_intent"):
            invoice = intent["metadata"].get("invoice_ids") or f"uncaptured {intent['id']}"
            found.setdefault(str(invoice), []).append(intent)
        return found

    def uncaptured(self) -> list[tuple[str, str]]:
        """The holds Stripe still holds uncaptured, with their status."""
        return [
            (str(i["id"]), str(i["status"]))
            for i in self.world.stripe.objects("payment_intent")
            if i.get("capture_method") == "manual" and not i["metadata"].get("invoice_ids")
        ]

    def charging(self) -> int:
        with self.before.db.transaction() as s:
            return int(
                s.scalar(
                    select(func.count()).where(
                        AutopayCharge.company_id == self.realm, AutopayCharge.status == "charging"
                    )
                )
                or 0
            )


def _pending(ctx: Context, realm: str, first: date, last: date) -> list[str]:
    db = ctx.db
    with db.transaction() as s:
        pending = s.scalar(select(func.count()).where(Effect.status == "pending"))
        backlog = s.scalar(select(func.count()).where(InboxEvent.processed_at.is_(None)))
        charging = s.scalar(select(func.count()).where(AutopayCharge.status == "charging"))
    left = [
        f"{n} {what}"
        for n, what in ((pending, "effects pending"), (backlog, "events"), (charging, "charging"))
        if n
    ]
    if not left:
        left.extend(d.line() for d in run_audit(ctx, realm, first, last, verify_qbo=False).differences[:5])
    return left


def test_kills_during_a_due_day_of_automatic_charges_charge_each_invoice_once(
    world: World, daemon: Callable[[], Daemon]
) -> None:
    rng = random.Random(SEED + 13)
    settings = _configure(world, refunds_reopen=False)
    world.config_path.write_text(
        world.config_path.read_text().replace("reminder_days = []", 'reminder_days = []\ntimezone = "UTC"')
        + AUTOPAY
    )
    settings = load(world.config_path)
    day = DueDay(world, settings, rng)
    day.plan()
    day.change_before_the_due_day()
    day.before.db.dispose()

    # The due day: Stripe enforces its rate limits, fails some calls and duplicates webhooks.
    world.stripe.limits.enabled = True
    world.stripe.faults.error_rate = 0.05
    world.stripe.webhooks.duplicate = True
    proc = daemon()
    proc.start(ready_timeout=60)
    kills = 0
    # The first kill once charging has begun (the charge step runs in the first cycle), the
    # others at random moments of what is left.
    world.wait_until(lambda: world.stripe.objects("payment_intent"), timeout=60, what="a first charge")
    while kills < AUTOPAY_KILLS:
        world.stripe.faults.throttle_next(rng.randint(0, 3))
        time.sleep(rng.uniform(0.0, 0.6) if kills == 0 else rng.uniform(0.3, 2.5))
        proc.kill()
        kills += 1
        time.sleep(rng.uniform(0.0, 0.5))
        proc.start(ready_timeout=60)
    world.stripe.faults.reset()

    ctx = build_context(settings)
    first, last = day.today - timedelta(days=4), day.today + timedelta(days=1)
    try:
        world.wait_until(
            lambda: not _pending(ctx, day.realm, first, last),
            timeout=180,
            interval=2.0,
            what=lambda: f"due day done: {_pending(ctx, day.realm, first, last)}\n{proc.tail()}",
        )
        assert proc.stop() == 0, proc.tail()
        report = run_audit(ctx, day.realm, first, last)
    finally:
        ctx.db.dispose()
    assert report.clean, report.to_text()

    intents = day.intents()
    # Zero double charges: one PaymentIntent per invoice at most, whatever was replayed.
    assert all(len(found) == 1 for found in intents.values()), {k: len(v) for k, v in intents.items()}
    # Zero charges on what was paid, voided, skipped or turned off before the due day.
    touched = {i: why for i, why in day.never_charged.items() if i in intents}
    assert not touched, touched
    # The holds whose next invoice went before the capture are still held, for a later invoice.
    assert [status for _, status in day.uncaptured()] == ["requires_capture"] * 2, day.uncaptured()
    # Every other invoice charged once, for what was left of it, and booked in QBO.
    charged = {
        invoice: Decimal(int(str(found[0]["amount_received"]))) / 100  # a hold: what it captured
        for invoice, found in intents.items()
        if found[0]["status"] == "succeeded"
    }
    lowered = {i: charged.pop(i) for i in day.lowered if i in charged}
    assert charged == day.expected, (charged, day.expected)
    assert all(amount == day.lowered[i] for i, amount in lowered.items()), (lowered, day.lowered)
    booked = Counter(
        str(t.get("TxnId"))
        for p in world.qbo.entities("Payment")
        if "Stripe" in str(p.get("PrivateNote"))
        for line in p.get("Line", [])
        for t in line.get("LinkedTxn", [])
    )
    assert {i: booked[i] for i in [*day.expected, *lowered]} == dict.fromkeys([*day.expected, *lowered], 1)
    with day.before.db.transaction() as s:
        failed = s.scalars(select(Effect).where(Effect.status == "failed")).all()
        assert not failed, [(e.key, e.last_error) for e in failed]
    assert world.stripe.limits.admitted > 0
    # A lowered invoice the mirror saw first got a new notice and a later day, at what is left.
    with day.before.db.transaction() as s:
        for invoice, left in day.lowered.items():
            if invoice not in lowered:
                last = autopay_store.charges_of(s, day.realm, invoice)[-1]
                assert (last.status, last.balance, last.charge_on) == (
                    "scheduled",
                    left,
                    day.today + timedelta(3),
                )
    # The plans' down payments and the holds' captures among them, each exactly once.
    assert {i for i in charged if i in day.planned} == {i for i in day.planned if i not in day.never_charged}
    assert {i for i in charged if i in day.held} == {i for i in day.held if i not in day.never_charged}
    figures = {"charged": len(charged), "lowered_charged": len(lowered), "never": len(day.never_charged)}
    print("due day", figures, "429s", world.stripe.limits.throttled, flush=True)
