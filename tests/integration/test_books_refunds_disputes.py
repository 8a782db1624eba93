"""Refunds and disputes into the books over both simulators, each ending with a clean audit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books_loop import assert_clean, balance, books_loop, charge_of, open_invoices, pay, qbo, refund, settle
from loop_harness import Loop


def _refund(loop: Loop, intent_id: str, amount: Decimal | None) -> str:
    refund_id = refund(loop, intent_id, amount)
    settle(loop)
    return refund_id


def test_full_refund_is_a_refund_receipt_to_the_customer_out_of_clearing(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund_id = _refund(loop, row.payment_intent_id or "", None)
        receipts = qbo(loop, "RefundReceipt")
        assert len(receipts) == 1
        receipt = receipts[0]
        assert receipt["CustomerRef"]["value"] == inv.customer_id
        assert Decimal(str(receipt["TotalAmt"])) == inv.balance
        clearing = next(a for a in qbo(loop, "Account") if a["Name"] == "Stripe Clearing")
        assert receipt["DepositToAccountRef"]["value"] == clearing["Id"]
        assert refund_id[:21] == receipt["PaymentRefNum"]
        # A refund leaves the invoice paid.
        assert balance(loop, inv.qbo_id) == 0
        assert_clean(loop)


def test_partial_refunds_each_get_their_own_entry(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        _refund(loop, row.payment_intent_id or "", Decimal("5.00"))
        _refund(loop, row.payment_intent_id or "", Decimal("7.25"))
        settle(loop)
        amounts = sorted(Decimal(str(r["TotalAmt"])) for r in qbo(loop, "RefundReceipt"))
        assert amounts == [Decimal("5.00"), Decimal("7.25")]
        assert_clean(loop)


def test_dispute_opened_withdraws_amount_and_fee_then_lost_stays_and_staff_told(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        dispute = loop.stripe.open_dispute(charge_of(loop, row.payment_intent_id or ""))
        settle(loop)
        withdrawals = [p for p in qbo(loop, "Purchase") if "Chargeback" in p.get("PrivateNote", "")]
        assert len(withdrawals) == 1
        assert Decimal(str(withdrawals[0]["TotalAmt"])) == inv.balance + Decimal("15.00")
        assert_clean(loop)
        loop.stripe.close_dispute(dispute, won=False)
        settle(loop)
        assert len([p for p in qbo(loop, "Purchase") if "Chargeback" in p.get("PrivateNote", "")]) == 1
        assert qbo(loop, "Deposit") == []
        subjects = [m.subject for m in loop.sink.mailbox.all()]
        assert any("disputed" in s.lower() for s in subjects) and any("lost" in s.lower() for s in subjects)
        assert_clean(loop)


def test_dispute_won_is_reversed_into_clearing(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        dispute = loop.stripe.open_dispute(charge_of(loop, row.payment_intent_id or ""))
        settle(loop)
        loop.stripe.close_dispute(dispute, won=True)
        settle(loop)
        deposits = qbo(loop, "Deposit")
        assert len(deposits) == 1
        assert Decimal(str(deposits[0]["TotalAmt"])) == inv.balance + Decimal("15.00")
        assert any("won" in m.subject.lower() for m in loop.sink.mailbox.all())
        assert_clean(loop)


def test_a_refund_the_bank_sends_back_is_deposited_back_into_clearing(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        refund_id = _refund(loop, row.payment_intent_id or "", Decimal("9.50"))
        loop.stripe.fail_refund(refund_id)
        settle(loop)
        settle(loop)
        (deposit,) = qbo(loop, "Deposit")
        assert Decimal(str(deposit["TotalAmt"])) == Decimal("9.50")
        assert refund_id in deposit["PrivateNote"]
        sales = next(a for a in qbo(loop, "Account") if a["Name"] == "Sales")
        assert deposit["Line"][0]["DepositLineDetail"]["AccountRef"]["value"] == sales["Id"]
        assert len(qbo(loop, "RefundReceipt")) == 1  # the receipt stays; the deposit undoes it
        assert any("Refund failed" in m.subject for m in loop.sink.mailbox.all())
        report = assert_clean(loop)
        assert report.currency("USD").matched == report.currency("USD").transactions
