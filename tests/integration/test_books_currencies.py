"""A zero-decimal currency end to end: the invoice's currency is charged and booked exactly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books_loop import assert_clean, books_loop, entity, open_invoices, pay, qbo, settle

from syncd.stages.cycle import run_cycle


def test_a_yen_invoice_is_charged_and_booked_in_whole_yen(tmp_path: Path) -> None:
    with books_loop(tmp_path, currencies=("USD", "JPY")) as loop:
        customer = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == "JPY")
        loop.qbo.add_invoice(customer["Id"], Decimal("12345"))
        run_cycle(loop.ctx, loop.realm)
        invoice = next(i for i in open_invoices(loop, "JPY") if i.total == Decimal("12345"))
        row = pay(loop, [invoice])
        # Stripe was asked for 12345 yen (zero-decimal: 12345 minor units, not 1234500).
        (session,) = [
            s for s in loop.stripe.objects("checkout.session") if s["id"] == row.checkout_session_id
        ]
        assert session["currency"] == "jpy" and session["amount_total"] == 12345
        payment = entity(loop, "Payment", row.qbo_payment_id)
        assert payment["CurrencyRef"]["value"] == "JPY"
        assert Decimal(str(payment["TotalAmt"])) == Decimal("12345")
        fee = next(
            p
            for p in qbo(loop, "Purchase")
            if row.payment_intent_id and row.payment_intent_id in p["PrivateNote"]
        )
        # 2.9 % + 30 of 12345 yen is 388.005: whole yen, as Stripe rounds it.
        assert Decimal(str(fee["TotalAmt"])) == Decimal("388") and fee["CurrencyRef"]["value"] == "JPY"
        assert Decimal(str(entity(loop, "Invoice", invoice.qbo_id)["Balance"])) == 0
        report = assert_clean(loop)
        assert "JPY" in report.totals


def test_a_dinar_invoice_settled_in_dollars_books_what_stripe_credited(tmp_path: Path) -> None:
    with books_loop(tmp_path, currencies=("USD", "KWD"), settlement_currency="usd") as loop:
        customer = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == "KWD")
        loop.qbo.add_invoice(customer["Id"], Decimal("12.34"))
        run_cycle(loop.ctx, loop.realm)
        invoice = next(i for i in open_invoices(loop, "KWD") if i.total == Decimal("12.34"))
        row = pay(loop, [invoice])
        # Three-decimal currency: 12.340 KWD is 12340 minor units.
        (session,) = [
            s for s in loop.stripe.objects("checkout.session") if s["id"] == row.checkout_session_id
        ]
        assert session["currency"] == "kwd" and session["amount_total"] == 12340
        (txn,) = [b for b in loop.stripe.objects("balance_transaction") if b["type"] in ("charge", "payment")]
        credited = Decimal(txn["amount"]) / 100
        payment = entity(loop, "Payment", row.qbo_payment_id)
        assert payment["CurrencyRef"]["value"] == "KWD" and Decimal(str(payment["TotalAmt"])) == Decimal(
            "12.34"
        )
        # QBO's home amount (TotalAmt x ExchangeRate, to the cent) is exactly what Stripe credited.
        home = (Decimal("12.34") * Decimal(str(payment["ExchangeRate"]))).quantize(Decimal("0.01"))
        assert home == credited
        # A partial refund goes back out at the rate Stripe applied to it, to the cent as well.
        loop.ctx.stripe.refund(
            payment_intent_id=row.payment_intent_id or "",
            amount=Decimal("5.65"),
            metadata={},
            idempotency_key="r1",
        )
        settle(loop)
        (receipt,) = qbo(loop, "RefundReceipt")
        (out,) = [
            b for b in loop.stripe.objects("balance_transaction") if b["type"] in ("refund", "payment_refund")
        ]
        refunded = (Decimal("5.65") * Decimal(str(receipt["ExchangeRate"]))).quantize(Decimal("0.01"))
        assert receipt["CurrencyRef"]["value"] == "KWD" and -refunded == Decimal(out["amount"]) / 100
        assert assert_clean(loop).clean
