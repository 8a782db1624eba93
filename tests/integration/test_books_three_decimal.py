"""Three-decimal currencies over both simulators: QuickBooks holds every amount to the cent, so the
sub-cent remainders of Stripe's fees are carried until the payout books them to the rounding account
inside its own entry; the clearing account then nets to exactly what Stripe's balance holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import advance, audit, books_loop, open_invoices, pay, qbo
from loop_harness import Loop

from syncd.stages.cycle import run_cycle

AMOUNTS = (Decimal("12.34"), Decimal("7.77"), Decimal("3.03"))


def _account(loop: Loop, name: str) -> dict[str, Any]:
    return next(a for a in qbo(loop, "Account") if a["Name"] == name)


def _clearing_balance(loop: Loop, clearing_id: str) -> Decimal:
    """What QBO's clearing account holds, read back from QBO's own entries."""
    found = loop.ctx.qbo(loop.realm).clearing_postings([clearing_id], date(2000, 1, 1), date(2100, 1, 1), {})
    return sum((p.amount for p in found if p.account_id == clearing_id), Decimal(0))


@pytest.mark.parametrize("currency", ["BHD", "KWD"])
def test_three_decimal_fees_and_payout_net_clearing_to_stripes_balance(tmp_path: Path, currency: str) -> None:
    bank = f"{currency} Bank"
    with books_loop(tmp_path, currencies=("USD", currency), accounts={"banks": {currency: bank}}) as loop:
        loop.qbo.create_entity(
            "Account", {"Name": bank, "AccountType": "Bank", "CurrencyRef": {"value": currency}}
        )
        customer = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == currency)
        for amount in AMOUNTS:
            loop.qbo.add_invoice(customer["Id"], amount)
        run_cycle(loop.ctx, loop.realm)
        for inv in open_invoices(loop, currency):
            pay(loop, [inv])
        fees = [Decimal(b["fee"]) / 1000 for b in loop.stripe.objects("balance_transaction")]
        assert any(f != f.quantize(Decimal("0.01")) for f in fees)  # Stripe's fees carry a third decimal
        before = audit(loop)
        assert before.clean, before.to_text()
        totals = before.totals[currency]
        assert totals.rounding != 0 and totals.stripe_net == totals.qbo_clearing + totals.rounding

        advance(loop, 5)
        (payout,) = [p for p in loop.stripe.objects("payout") if p["currency"] == currency.lower()]
        assert payout["status"] == "paid"
        clearing = _account(loop, f"Stripe Clearing {currency}")["Id"]
        assert _clearing_balance(loop, clearing) == 0  # Stripe's balance is 0 again, to the fil
        (deposit,) = qbo(loop, "Deposit")
        paid_out = Decimal(payout["amount"]) / 1000
        assert deposit["DepositToAccountRef"]["value"] == _account(loop, bank)["Id"]
        assert Decimal(str(deposit["TotalAmt"])) == paid_out.quantize(Decimal("0.01"))
        rounding_id = _account(loop, "Stripe Rounding")["Id"]
        lines = {
            ln["DepositLineDetail"]["AccountRef"]["value"]: Decimal(str(ln["Amount"]))
            for ln in deposit["Line"]
        }
        assert set(lines) == {clearing, rounding_id} and lines[rounding_id] != 0
        assert abs(lines[rounding_id]) <= Decimal("0.01") * len(AMOUNTS)
        after = audit(loop)
        assert after.clean, after.to_text()
        assert after.totals[currency].stripe_net == after.totals[currency].qbo_clearing == 0
        assert after.totals[currency].rounding == 0

        # An edit by a bookkeeper is still an edit, told apart from the rounding.
        fee = qbo(loop, "Purchase")[0]
        loop.qbo.update_entity(
            "Purchase",
            fee["Id"],
            TotalAmt=str(Decimal(str(fee["TotalAmt"])) + Decimal("0.01")),
            Line=[{**fee["Line"][0], "Amount": str(Decimal(str(fee["TotalAmt"])) + Decimal("0.01"))}],
        )
        edited = audit(loop)
        assert any(
            d.ref == f"Purchase {fee['Id']}" and "edited in QuickBooks" in d.problem
            for d in edited.differences
        )
