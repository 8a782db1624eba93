"""ACH debits in the books: processing is not paid, success records the Payment, a failure records
nothing, a return after success voids the Payment (the invoice reopens) and tells everyone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books_loop import advance, assert_clean, balance, books_loop, entity, open_invoices, pay, payment, qbo

from syncd.domain.payments import PaymentStatus
from syncd.stages.cycle import run_cycle


def test_processing_is_not_paid_and_success_records_the_payment(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], "ach_success")
        assert row.status == PaymentStatus.PROCESSING.value
        assert qbo(loop, "Payment") == [] or all(p["Id"] != row.qbo_payment_id for p in qbo(loop, "Payment"))
        assert row.qbo_payment_id is None
        assert_clean(loop)  # nothing has moved in Stripe's balance either
        advance(loop, 7)
        row = payment(loop, row.key)
        assert row.status == PaymentStatus.SUCCEEDED.value and row.qbo_payment_id is not None
        assert balance(loop, inv.qbo_id) == 0
        assert_clean(loop)


def test_failure_before_success_records_nothing(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        before = len(qbo(loop, "Payment"))
        row = pay(loop, [inv], "ach_failure")
        advance(loop, 7)
        assert payment(loop, row.key).status == PaymentStatus.FAILED.value
        assert len(qbo(loop, "Payment")) == before
        assert_clean(loop)


def test_return_after_success_voids_the_payment_and_reopens_the_invoice(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], "ach_return")
        advance(loop, 7)  # settles
        row = payment(loop, row.key)
        assert row.qbo_payment_id is not None
        assert balance(loop, inv.qbo_id) == 0
        advance(loop, 7)  # returned
        voided = entity(loop, "Payment", row.qbo_payment_id)
        assert voided is not None and Decimal(str(voided["TotalAmt"])) == 0
        assert balance(loop, inv.qbo_id) == inv.balance
        assert payment(loop, row.key).status == PaymentStatus.RETURNED.value
        return_fees = [p for p in qbo(loop, "Purchase") if "Return fee" in p.get("PrivateNote", "")]
        assert len(return_fees) == 1
        messages = loop.sink.mailbox.all()
        assert any("returned" in m.subject.lower() for m in messages)  # staff
        assert len([m for m in messages if inv.email and inv.email in str(m.to)]) >= 2  # customer told
        run_cycle(loop.ctx, loop.realm)
        assert open_invoices(loop) and inv.qbo_id in {i.qbo_id for i in open_invoices(loop)}
        assert_clean(loop)
