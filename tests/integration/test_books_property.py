"""Property: any sequence of payments, partial payments, refunds (some sent back by the bank),
disputes, ACH returns and payouts — and invoices lowered, paid offline or voided in QBO while
their Checkout Session is open with no webhook telling syncd (only the periodic pull sees it),
backlogs of several payments for one invoice booked together, several tabs pressing Pay with
different amounts through the portal (the customer then tries every page they were given), and a
syncd Payment deleted in QBO (held for review until staff rebook it) — leaves ``syncd audit`` clean,
QBO without a duplicate entry, no charge without its QBO Payment and no customer charged more than
their invoice's balance plus what a page paid while syncd closed it took (booked as credit, staff
told); both simulators, one loop per way of booking refunds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from books_loop import (
    advance,
    assert_clean,
    audit,
    books_loop,
    charge_of,
    invoice,
    pay,
    payment,
    qbo,
    settle,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_harness import Loop
from overcharge import overcharges
from sqlalchemy import select

from connectors.stripe.simulator.errors import ApiError
from syncd.errors import PermanentError
from syncd.stages import entries
from syncd.stages.collect import PortalService, open_attempt
from syncd.stages.cycle import run_cycle
from syncd.store.models import Effect, InvoiceRow, PaymentRow

pytestmark = pytest.mark.slow
CENT = Decimal("0.01")


@pytest.fixture(scope="module", params=[False, True], ids=["refund-receipts", "refunds-reopen"])
def loop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    path: Path = tmp_path_factory.mktemp("books-property")
    # Every invoice here is one customer's: credit hold (tests/integration/test_credit_hold.py)
    # would soon refuse their bank debits, and this property is about the books.
    with books_loop(
        path,
        allow_partial=True,
        min_partial="1.00",
        refund_reopens_invoice=request.param,
        bank_debit_strikes=0,
    ) as running:
        yield running


@dataclass
class Paid:
    intent_id: str
    amount: Decimal
    card: bool
    refunded: Decimal = Decimal(0)
    disputed: str | None = None
    refunds: list[tuple[str, Decimal]] = field(default_factory=list)  # live ones


@dataclass
class Run:
    """One example: what was paid, each invoice's balance when a session was opened for it, and
    the syncd Payments deleted in QBO (held for review until the end)."""

    paid: list[Paid] = field(default_factory=list)
    opened: dict[str, Decimal] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def open(self, inv: InvoiceRow) -> None:
        self.opened[inv.qbo_id] = max(self.opened.get(inv.qbo_id, Decimal(0)), inv.balance)


cents = st.integers(min_value=100, max_value=250_00)
op = st.one_of(
    st.tuples(st.just("card"), cents, st.booleans()),
    st.tuples(st.just("ach"), cents, st.sampled_from(["ach_success", "ach_failure", "ach_return"])),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("refund_fails"), st.integers(0, 20), st.just(None)),
    st.tuples(st.just("dispute"), st.integers(0, 20), st.sampled_from(["open", "won", "lost"])),
    st.tuples(st.just("days"), st.integers(1, 3), st.just(None)),
    st.tuples(st.just("race"), cents, st.sampled_from(["lowered", "paid_offline", "voided"])),
    st.tuples(st.just("backlog"), cents, st.integers(2, 4)),
    st.tuples(st.just("pull"), st.just(0), st.just(None)),
    st.tuples(st.just("tabs"), st.integers(300, 250_00), st.tuples(st.integers(2, 4), st.booleans())),
    st.tuples(st.just("deleted"), cents, st.just(None)),
)


def _new_invoice(loop: Loop, amount: Decimal) -> str:
    invoice_id = loop.qbo.add_invoice(amount=amount)
    run_cycle(loop.ctx, loop.realm)
    return invoice_id


def _open_checkouts(loop: Loop, run: Run, inv: InvoiceRow, tabs: int) -> list[str]:
    """``tabs`` payment attempts sharing the invoice's balance, each with its Checkout Session, made
    behind the portal's back (a backlog: all payable at once, booked together)."""
    now = loop.ctx.clock()
    keys = [f"pay:{loop.realm}:{inv.qbo_id}:{now.timestamp()}:{tab}" for tab in range(tabs)]
    part = max(CENT, (inv.balance / tabs).quantize(CENT))
    amounts = [part] * (tabs - 1) + [inv.balance - part * (tabs - 1)]
    run.open(inv)
    with loop.ctx.db.transaction() as s:
        for key, amount in zip(keys, amounts, strict=True):
            if amount > 0:
                open_attempt(s, key=key, invoices=[inv], amount=amount, now=now)
    loop.drain()
    return [key for key, amount in zip(keys, amounts, strict=True) if amount > 0]


def _change_in_qbo(loop: Loop, inv: InvoiceRow, how: str) -> None:
    """The bookkeeper's change while the customer is on Checkout; no webhook reaches syncd."""
    if how == "voided":
        loop.qbo.void_invoice(inv.qbo_id)
    elif how == "paid_offline":
        loop.qbo.record_offline_payment(inv.qbo_id, max(Decimal("0.01"), (inv.balance / 3).quantize(CENT)))
    else:
        lowered = max(Decimal("0.50"), (inv.balance / 2).quantize(CENT))
        line = loop.qbo.entity("Invoice", inv.qbo_id)["Line"][0]  # type: ignore[index]
        line = {**line, "Amount": lowered}
        line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": lowered}
        loop.qbo.update_invoice(inv.qbo_id, Line=[line])


def _pay_checkouts(loop: Loop, paid: list[Paid], keys: list[str]) -> None:
    for key in keys:
        session_id = payment(loop, key).checkout_session_id
        assert session_id is not None
        loop.stripe.pay_checkout(session_id, "card_success")
    settle(loop)  # the payments' QBO writes are due together
    for key in keys:
        row = payment(loop, key)
        assert row.payment_intent_id is not None
        paid.append(Paid(row.payment_intent_id, row.amount, True))


def _session_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _staff_told(loop: Loop, key: str) -> bool:
    with loop.ctx.db.transaction() as s:
        return s.scalar(select(Effect.key).where(Effect.key == f"email:staff:{key}")) is not None


def _tabs(loop: Loop, run: Run, cents_: int, tabs: int, late: bool) -> None:
    """Pay pressed in ``tabs`` tabs with different amounts through the portal; the customer then
    tries every page. Only the last can be paid; ``late``: the bookkeeper records a check in QBO
    and the pull queues the page's expiry, but the customer pays before syncd closes it."""
    inv = invoice(loop, _new_invoice(loop, Decimal(cents_) / 100))
    token = loop.ctx.links.token(loop.realm, inv.qbo_id)
    step = (inv.balance / tabs).quantize(CENT)
    amounts = [max(Decimal("1.00"), step * (i + 1)) for i in range(tabs - 1)] + [inv.balance]
    urls = []
    for amount in dict.fromkeys(amounts):  # different amounts, in order
        run.open(invoice(loop, inv.qbo_id))
        urls.append(PortalService(loop.ctx).start_payment(token, amount))
    assert len(set(urls)) == len(urls)
    if late:
        loop.qbo.record_offline_payment(inv.qbo_id, inv.balance)
        run_cycle(loop.ctx, loop.realm)  # queues the open page's expiry; the worker is not there yet
    for url in urls[:-1]:
        with pytest.raises(ApiError, match="expired"):
            loop.stripe.pay_checkout(_session_of(url), "card_success")
    loop.stripe.pay_checkout(_session_of(urls[-1]), "card_success")
    settle(loop)
    with loop.ctx.db.transaction() as s:
        row = s.scalar(select(PaymentRow).where(PaymentRow.checkout_session_id == _session_of(urls[-1])))
        assert row is not None and row.payment_intent_id is not None and row.qbo_payment_id is not None
        s.expunge(row)
    if late:
        assert _staff_told(loop, f"late-checkout:{_session_of(urls[-1])}")
        assert _staff_told(loop, f"credit:{row.payment_intent_id}")
        booked = loop.qbo.entity("Payment", row.qbo_payment_id)
        assert booked is not None and Decimal(str(booked.get("UnappliedAmt", 0))) == row.amount
    run.paid.append(Paid(row.payment_intent_id, row.amount, True))


def _deleted(loop: Loop, run: Run, cents_: int) -> None:
    """The bookkeeper deletes syncd's Payment in QBO: the invoice is held for review, not payable
    again, staff told once; the Payment stays deleted until the end of the example."""
    inv = invoice(loop, _new_invoice(loop, Decimal(cents_) / 100))
    run.open(inv)
    row = pay(loop, [inv])
    assert row.qbo_payment_id is not None
    loop.qbo.delete_entity("Payment", row.qbo_payment_id)
    for _ in range(2):  # a second pull re-reads the overlap window: still one review, one email
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
    token = loop.ctx.links.token(loop.realm, inv.qbo_id)
    sessions = len(loop.stripe.objects("checkout.session"))
    with pytest.raises(PermanentError, match="being reviewed"):
        PortalService(loop.ctx).start_payment(token, None)
    assert len(loop.stripe.objects("checkout.session")) == sessions
    told = [m for m in loop.sink.mailbox.all() if f"QuickBooks Payment {row.qbo_payment_id} was" in m.subject]
    assert len(told) == 1, [m.subject for m in told]
    run.deleted.append(row.qbo_payment_id)


def _rebook_deleted(loop: Loop, run: Run) -> None:
    """The audit lists each deleted entry; staff resolve it as they would (``syncd entries --rebook``)."""
    if not run.deleted:
        return
    report = audit(loop)
    for entry in run.deleted:
        assert any(f"Payment {entry} " in d.line() for d in report.differences), report.to_text()
        entries.rebook(loop.ctx, loop.realm, entry)
    loop.drain()
    run_cycle(loop.ctx, loop.realm)
    loop.drain()


def _step(loop: Loop, run: Run, step: tuple[str, int, object]) -> None:
    paid = run.paid
    kind, n, extra = step
    if kind == "race":
        inv = invoice(loop, _new_invoice(loop, Decimal(n) / 100))
        keys = _open_checkouts(loop, run, inv, 1)
        _change_in_qbo(loop, inv, str(extra))
        _pay_checkouts(loop, paid, keys)
    elif kind == "backlog":
        inv = invoice(loop, _new_invoice(loop, Decimal(n) / 100))
        keys = _open_checkouts(loop, run, inv, int(str(extra)))
        # A check recorded meanwhile: together the backlog now exceeds what is open in QBO.
        loop.qbo.record_offline_payment(inv.qbo_id, max(CENT, (inv.balance / 3).quantize(CENT)))
        _pay_checkouts(loop, paid, keys)
    elif kind == "tabs":
        assert isinstance(extra, tuple)
        _tabs(loop, run, n, int(extra[0]), bool(extra[1]))
    elif kind == "deleted":
        _deleted(loop, run, n)
    elif kind == "pull":
        run_cycle(loop.ctx, loop.realm)  # the periodic pull, the only news of a lost webhook
        loop.drain()
    elif kind in ("card", "ach"):
        amount = Decimal(n) / 100
        inv = invoice(loop, _new_invoice(loop, amount))
        run.open(inv)
        partial = kind == "card" and bool(extra) and amount > 2
        outcome = "card_success" if kind == "card" else str(extra)
        row = pay(loop, [inv], outcome, amount=(amount / 2).quantize(Decimal("0.01")) if partial else None)
        assert row.payment_intent_id is not None
        paid.append(Paid(row.payment_intent_id, row.amount, kind == "card"))
    elif kind == "refund" and paid:
        target = paid[n % len(paid)]
        left = target.amount - target.refunded
        if not target.card or target.disputed or left <= 0:
            return
        amount = max(Decimal("0.01"), (left * int(str(extra)) / 100).quantize(Decimal("0.01")))
        refund = loop.ctx.stripe.refund(
            payment_intent_id=target.intent_id,
            amount=min(amount, left),
            metadata={},
            idempotency_key=f"prop-refund-{target.intent_id}-{target.refunded}-{len(target.refunds)}",
        )
        target.refunded += min(amount, left)
        target.refunds.append((refund.id, min(amount, left)))
        settle(loop)
    elif kind == "refund_fails" and paid:
        target = paid[n % len(paid)]
        if not target.refunds or target.disputed:
            return
        refund_id, amount = target.refunds.pop(0)
        loop.stripe.fail_refund(refund_id)
        target.refunded -= amount
        settle(loop)
    elif kind == "dispute" and paid:
        target = paid[n % len(paid)]
        if not target.card or target.refunded >= target.amount:
            return
        if target.disputed is None:
            target.disputed = loop.stripe.open_dispute(charge_of(loop, target.intent_id))
        elif extra in ("won", "lost") and target.disputed != "closed":
            loop.stripe.close_dispute(target.disputed, won=extra == "won")
            target.disputed = "closed"
        settle(loop)
    elif kind == "days":
        advance(loop, n)


def _no_duplicates(loop: Loop) -> None:
    """Every entry syncd writes names its Stripe object in PrivateNote: one entry per note."""
    for entity in ("Payment", "Purchase", "Transfer", "RefundReceipt", "Deposit"):
        notes = Counter(str(e.get("PrivateNote")) for e in qbo(loop, entity))
        dupes = {k: v for k, v in notes.items() if v > 1 and "Stripe" in k}
        assert not dupes, f"duplicate {entity} entries: {dupes}"


def _every_charge_booked(loop: Loop) -> None:
    """Zero charges without a QBO entry, and no write given up on."""
    with loop.ctx.db.transaction() as s:
        unbooked = s.scalars(
            select(PaymentRow.key).where(
                PaymentRow.payment_intent_id.is_not(None),
                PaymentRow.status.in_(["succeeded", "returned"]),
                PaymentRow.qbo_payment_id.is_(None),
            )
        ).all()
        failed = s.scalars(select(Effect).where(Effect.status == "failed")).all()
    assert not unbooked, f"charges without a QBO Payment: {unbooked}"
    assert not failed, [(e.key, e.last_error) for e in failed]


def _check(loop: Loop, run: Run) -> None:
    advance(loop, 8)  # every ACH debit settles or returns; every payout arrives
    _rebook_deleted(loop, run)
    assert_clean(loop)
    _no_duplicates(loop)
    _every_charge_booked(loop)
    with loop.ctx.db.transaction() as s:
        over = overcharges(loop.stripe, s, run.opened)
    assert not over, over


def test_the_races_in_one_fixed_sequence(loop: Loop) -> None:
    """Every race at least once, whatever the examples below draw."""
    run = Run()
    for step in [
        ("tabs", 300_00, (3, False)),
        ("tabs", 123_45, (2, True)),
        ("deleted", 50_00, None),
        ("backlog", 300_00, 4),
        ("race", 80_00, "lowered"),
        ("refund", 0, 50),
        ("tabs", 3_00, (4, True)),
    ]:
        _step(loop, run, step)
    _check(loop, run)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=8))
def test_any_sequence_of_money_movements_leaves_the_audit_clean(
    loop: Loop, steps: list[tuple[str, int, object]]
) -> None:
    run = Run()
    for step in steps:
        _step(loop, run, step)
    _check(loop, run)
