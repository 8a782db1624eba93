"""Property: any sequence of payments, partial payments, refunds (some sent back by the bank),
disputes, ACH returns and payouts — and invoices lowered, paid offline or voided in QBO while
their Checkout Session is open with no webhook telling syncd (only the periodic pull sees it), and
backlogs of several payments for one invoice booked together — leaves ``syncd audit`` clean, QBO
without a duplicate entry and no charge without its QBO Payment (both simulators, one loop per way
of booking refunds)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from books_loop import advance, assert_clean, books_loop, charge_of, invoice, pay, payment, qbo, settle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_harness import Loop
from sqlalchemy import select

from syncd.stages.collect import open_attempt
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
)


def _new_invoice(loop: Loop, amount: Decimal) -> str:
    invoice_id = loop.qbo.add_invoice(amount=amount)
    run_cycle(loop.ctx, loop.realm)
    return invoice_id


def _open_checkouts(loop: Loop, inv: InvoiceRow, tabs: int) -> list[str]:
    """``tabs`` payment attempts for the whole invoice, each with its Checkout Session."""
    now = loop.ctx.clock()
    keys = [f"pay:{loop.realm}:{inv.qbo_id}:{now.timestamp()}:{tab}" for tab in range(tabs)]
    with loop.ctx.db.transaction() as s:
        for key in keys:
            open_attempt(s, key=key, invoices=[inv], amount=inv.balance, now=now)
    loop.drain()
    return keys


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


def _step(loop: Loop, paid: list[Paid], step: tuple[str, int, object]) -> None:
    kind, n, extra = step
    if kind == "race":
        inv = invoice(loop, _new_invoice(loop, Decimal(n) / 100))
        keys = _open_checkouts(loop, inv, 1)
        _change_in_qbo(loop, inv, str(extra))
        _pay_checkouts(loop, paid, keys)
    elif kind == "backlog":
        inv = invoice(loop, _new_invoice(loop, Decimal(n) / 100))
        _pay_checkouts(loop, paid, _open_checkouts(loop, inv, int(str(extra))))
    elif kind == "pull":
        run_cycle(loop.ctx, loop.realm)  # the periodic pull, the only news of a lost webhook
        loop.drain()
    elif kind in ("card", "ach"):
        amount = Decimal(n) / 100
        inv = invoice(loop, _new_invoice(loop, amount))
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


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=8))
def test_any_sequence_of_money_movements_leaves_the_audit_clean(
    loop: Loop, steps: list[tuple[str, int, object]]
) -> None:
    paid: list[Paid] = []
    for step in steps:
        _step(loop, paid, step)
    advance(loop, 8)  # every ACH debit settles or returns; every payout arrives
    assert_clean(loop)
    _no_duplicates(loop)
    _every_charge_booked(loop)
