"""Refunds that reopen invoices (``refund_reopens_invoice``): the refund comes off the QBO Payment,
the invoice owes it again, nothing is written twice, and the audit stays clean in every period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from books_loop import (
    advance,
    assert_clean,
    audit,
    balance,
    books_loop,
    entity,
    invoice,
    open_invoices,
    pay,
    qbo,
    refund,
    settle,
)
from loop_harness import Loop

from syncd.domain import QboPaymentReduction
from syncd.stages.cycle import run_cycle


def _total(loop: Loop, payment_id: str | None) -> Decimal:
    return Decimal(str(entity(loop, "Payment", payment_id)["TotalAmt"]))


def test_a_partial_refund_comes_off_the_payment_and_the_invoice_owes_it_again(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund(loop, row.payment_intent_id or "", Decimal("12.25"))
        settle(loop)
        assert qbo(loop, "RefundReceipt") == []
        assert _total(loop, row.qbo_payment_id) == inv.balance - Decimal("12.25")
        assert balance(loop, inv.qbo_id) == Decimal("12.25")
        run_cycle(loop.ctx, loop.realm)
        mirrored = invoice(loop, inv.qbo_id)
        assert mirrored.status == "partial" and mirrored.balance == Decimal("12.25")
        assert_clean(loop)


def test_a_full_refund_reopens_the_whole_invoice(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund(loop, row.payment_intent_id or "", None)
        settle(loop)
        assert _total(loop, row.qbo_payment_id) == 0
        assert balance(loop, inv.qbo_id) == inv.balance
        run_cycle(loop.ctx, loop.realm)
        assert invoice(loop, inv.qbo_id).status == "open"
        assert_clean(loop)


def test_refunds_racing_each_other_and_a_replay_each_come_off_once(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        intent = row.payment_intent_id or ""
        first = refund(loop, intent, Decimal("5.00"), "a")
        refund(loop, intent, Decimal("7.25"), "b")
        # A crash after QBO took the first reduction but before syncd committed it: the effect
        # replays against a Payment that already carries the refund's marker.
        loop.ctx.qbo(loop.realm).reduce_payment(
            QboPaymentReduction(row.qbo_payment_id or "", first, Decimal("5.00")),
            request_id=f"qbo:refund:{first}",
        )
        settle(loop)
        settle(loop)
        assert _total(loop, row.qbo_payment_id) == inv.balance - Decimal("12.25")
        assert balance(loop, inv.qbo_id) == Decimal("12.25")
        note = entity(loop, "Payment", row.qbo_payment_id)["PrivateNote"]
        assert note.count(f"[{first}]") == 1 and note.count("[re_") == 2
        assert_clean(loop)


def test_the_last_invoice_of_a_payment_reopens_first(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True, invoices=12) as loop:
        customer = open_invoices(loop)[0].customer_id
        loop.qbo.add_invoice(customer, Decimal("42.50"))
        loop.qbo.add_invoice(customer, Decimal("30.00"))
        run_cycle(loop.ctx, loop.realm)
        mine = [i for i in open_invoices(loop) if i.customer_id == customer][:2]
        row = pay(loop, mine)
        found = entity(loop, "Payment", row.qbo_payment_id)
        last = found["Line"][-1]["LinkedTxn"][0]["TxnId"]
        first = found["Line"][0]["LinkedTxn"][0]["TxnId"]
        refund(loop, row.payment_intent_id or "", Decimal("10.00"))
        settle(loop)
        assert balance(loop, last) == Decimal("10.00") and balance(loop, first) == 0
        assert_clean(loop)


def test_an_overpayment_is_refunded_out_of_the_credit_first(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], amount=inv.balance + Decimal("25.00"))
        refund(loop, row.payment_intent_id or "", Decimal("25.00"))
        settle(loop)
        found = entity(loop, "Payment", row.qbo_payment_id)
        assert Decimal(str(found["UnappliedAmt"])) == 0
        assert balance(loop, inv.qbo_id) == 0  # the invoice stays paid: only the credit went back
        assert_clean(loop)


def test_a_refund_in_a_later_month_keeps_both_months_clean(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        paid_on = loop.stripe.clock.now().date()
        row = pay(loop, [inv])
        advance(loop, 40)
        refund(loop, row.payment_intent_id or "", Decimal("3.00"))
        settle(loop)
        refunded_on = loop.stripe.clock.now().date()
        assert _total(loop, row.qbo_payment_id) == inv.balance - Decimal("3.00")
        earlier = audit(loop, paid_on - timedelta(days=1), paid_on + timedelta(days=1))
        later = audit(loop, refunded_on - timedelta(days=1), refunded_on + timedelta(days=1))
        assert earlier.clean, earlier.to_text()
        assert later.clean, later.to_text()
        assert_clean(loop)


def test_the_audit_sees_a_reduced_payment_edited_in_quickbooks(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund(loop, row.payment_intent_id or "", Decimal("4.00"))
        settle(loop)
        assert_clean(loop)
        payment = entity(loop, "Payment", row.qbo_payment_id)
        line = payment["Line"][0]
        loop.qbo.update_entity(
            "Payment",
            payment["Id"],
            TotalAmt=Decimal(str(payment["TotalAmt"])) - 1,
            Line=[{"Amount": Decimal(str(line["Amount"])) - 1, "LinkedTxn": line["LinkedTxn"]}],
        )
        report = audit(loop)
        assert not report.clean and f"Payment {payment['Id']}" in report.to_text()


def test_a_converted_partial_refund_stays_exact_and_a_full_one_falls_back_to_a_receipt(
    tmp_path: Path,
) -> None:
    with books_loop(
        tmp_path, currencies=("USD", "KWD"), settlement_currency="usd", refund_reopens_invoice=True
    ) as loop:
        customer = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == "KWD")
        loop.qbo.add_invoice(customer["Id"], Decimal("12.34"))
        loop.qbo.add_invoice(customer["Id"], Decimal("20.00"))
        run_cycle(loop.ctx, loop.realm)
        first, second = sorted(open_invoices(loop, "KWD"), key=lambda i: i.total)
        row = pay(loop, [first])
        refund(loop, row.payment_intent_id or "", Decimal("5.65"))
        settle(loop)
        payment = entity(loop, "Payment", row.qbo_payment_id)
        assert Decimal(str(payment["TotalAmt"])) == Decimal("6.69")
        assert balance(loop, first.qbo_id) == Decimal("5.65")
        assert qbo(loop, "RefundReceipt") == []
        assert_clean(loop)  # the Payment's home amount is what Stripe credited less what it refunded
        # A full refund at another rate leaves an exchange difference no empty Payment can carry.
        other = pay(loop, [second])
        loop.stripe.set_exchange_rate("kwd", Decimal("3.10"))
        refund(loop, other.payment_intent_id or "", None)
        settle(loop)
        (receipt,) = qbo(loop, "RefundReceipt")
        assert Decimal(str(receipt["TotalAmt"])) == Decimal("20.00")
        assert balance(loop, second.qbo_id) == 0
        assert any("without reopening" in m.subject for m in loop.sink.mailbox.all())
        assert_clean(loop)


def test_a_refund_the_bank_sends_back_pays_the_reopened_invoice_again(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund_id = refund(loop, row.payment_intent_id or "", Decimal("12.25"))
        settle(loop)
        assert balance(loop, inv.qbo_id) == Decimal("12.25")
        loop.stripe.fail_refund(refund_id)
        settle(loop)
        settle(loop)
        assert balance(loop, inv.qbo_id) == 0
        payment = entity(loop, "Payment", row.qbo_payment_id)
        assert Decimal(str(payment["TotalAmt"])) == inv.balance and Decimal(str(payment["UnappliedAmt"])) == 0
        assert f"[{refund_id}:failed] +12.25" in payment["PrivateNote"]
        assert qbo(loop, "Deposit") == []
        run_cycle(loop.ctx, loop.realm)
        assert invoice(loop, inv.qbo_id).status == "paid"
        assert_clean(loop)
