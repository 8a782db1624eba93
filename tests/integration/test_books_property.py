"""Property: any sequence of payments, partial payments, refunds (some sent back by the bank),
disputes, ACH returns and payouts leaves ``syncd audit`` clean and QBO without a duplicate entry
(both simulators, one loop per way of booking refunds)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from books_loop import advance, assert_clean, books_loop, charge_of, invoice, pay, qbo, settle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_harness import Loop

from syncd.stages.cycle import run_cycle

pytestmark = pytest.mark.slow


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
)


def _new_invoice(loop: Loop, amount: Decimal) -> str:
    invoice_id = loop.qbo.add_invoice(amount=amount)
    run_cycle(loop.ctx, loop.realm)
    return invoice_id


def _step(loop: Loop, paid: list[Paid], step: tuple[str, int, object]) -> None:
    kind, n, extra = step
    if kind in ("card", "ach"):
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
