"""Card payments into the books over both simulators: payment + fee, partials, overpayment, several
invoices in one payment, refunds, payouts — each ending with a clean ``syncd audit``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books_loop import (
    advance,
    assert_clean,
    balance,
    books_loop,
    entity,
    invoice,
    open_invoices,
    pay,
    qbo,
    settle,
)


def test_payment_and_fee_land_in_clearing_and_audit_clean(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv])
        payments = [p for p in qbo(loop, "Payment") if p["Id"] == row.qbo_payment_id]
        assert len(payments) == 1
        purchases = qbo(loop, "Purchase")
        assert len(purchases) == 1
        fee = Decimal(str(purchases[0]["TotalAmt"]))
        assert fee == (inv.balance * Decimal("0.029")).quantize(Decimal("0.01")) + Decimal("0.30")
        report = assert_clean(loop)
        assert report.totals["USD"].stripe_net == inv.balance - fee


def test_partial_payment_leaves_the_invoice_open_with_the_rest(tmp_path: Path) -> None:
    with books_loop(tmp_path, allow_partial=True) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], amount=Decimal("10.00"))
        qbo_payment = entity(loop, "Payment", row.qbo_payment_id)
        assert qbo_payment is not None and Decimal(str(qbo_payment["TotalAmt"])) == Decimal("10.00")
        assert balance(loop, inv.qbo_id) == inv.balance - Decimal("10.00")
        assert invoice(loop, inv.qbo_id).status == "partial"
        assert_clean(loop)


def test_one_payment_for_several_invoices_is_one_qbo_payment_with_a_line_each(tmp_path: Path) -> None:
    with books_loop(tmp_path, invoices=12) as loop:
        invoices = open_invoices(loop)
        customer = invoices[0].customer_id
        mine = [i for i in invoices if i.customer_id == customer]
        if len(mine) < 2:
            extra = loop.qbo.add_invoice(customer, Decimal("42.50"))
            from syncd.stages.cycle import run_cycle

            run_cycle(loop.ctx, loop.realm)
            mine = [i for i in open_invoices(loop) if i.customer_id == customer]
            assert extra in {i.qbo_id for i in mine}
        row = pay(loop, mine[:2])
        found = entity(loop, "Payment", row.qbo_payment_id)
        linked = sorted(lt["TxnId"] for line in found["Line"] for lt in line["LinkedTxn"])
        assert linked == sorted(i.qbo_id for i in mine[:2])
        assert Decimal(str(found["TotalAmt"])) == sum((i.balance for i in mine[:2]), Decimal(0))
        assert all(balance(loop, i.qbo_id) == 0 for i in mine[:2])
        assert_clean(loop)


def test_overpayment_is_left_as_unapplied_customer_credit_and_staff_told(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], amount=inv.balance + Decimal("25.00"))
        found = entity(loop, "Payment", row.qbo_payment_id)
        assert Decimal(str(found["TotalAmt"])) == inv.balance + Decimal("25.00")
        assert Decimal(str(found["UnappliedAmt"])) == Decimal("25.00")
        assert balance(loop, inv.qbo_id) == 0  # never negative
        assert any("credit" in m.subject.lower() for m in loop.sink.mailbox.all())
        assert_clean(loop)


def test_payout_is_one_transfer_for_its_exact_amount_on_its_arrival_date(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        for inv in open_invoices(loop)[:3]:
            pay(loop, [inv])
        advance(loop, 5)
        payouts = loop.stripe.objects("payout")
        assert len(payouts) == 1 and payouts[0]["status"] == "paid"
        transfers = qbo(loop, "Transfer")
        assert len(transfers) == 1
        payout = payouts[0]
        from datetime import UTC, datetime

        assert Decimal(str(transfers[0]["Amount"])) == Decimal(payout["amount"]) / 100
        assert (
            transfers[0]["TxnDate"] == datetime.fromtimestamp(payout["arrival_date"], UTC).date().isoformat()
        )
        bank = next(a for a in qbo(loop, "Account") if a["Name"] == "Checking")
        assert transfers[0]["ToAccountRef"]["value"] == bank["Id"]
        settle(loop)
        assert len(qbo(loop, "Transfer")) == 1  # replays write nothing new
        assert_clean(loop)
