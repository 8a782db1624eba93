"""Payments recorded in QBO by the bookkeeper, invoices edited or voided there, and payments in
other currencies, over both simulators."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books_loop import (
    advance,
    assert_clean,
    balance,
    books_loop,
    entity,
    open_invoices,
    pay,
    payment,
    qbo,
)

from syncd.domain.payments import PaymentStatus
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle


def test_a_check_recorded_in_qbo_marks_the_invoice_paid_and_expires_its_open_checkout(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        token = loop.ctx.links.token(loop.realm, inv.qbo_id)
        portal = PortalService(loop.ctx)
        portal.start_payment(token, None)  # a checkout is open when the check arrives
        loop.qbo.record_offline_payment(inv.qbo_id, inv.balance)
        run_cycle(loop.ctx, loop.realm)  # the next incremental pull
        loop.drain()
        view = portal.invoice(token)
        assert view is not None and view.payment_state.value == "paid"
        sessions = [s for s in loop.stripe.objects("checkout.session") if s["metadata"].get("invoice_ids")]
        assert sessions and all(s["status"] == "expired" for s in sessions)
        assert_clean(loop)


def test_a_payment_that_arrives_anyway_for_a_paid_invoice_becomes_credit_and_staff_are_told(
    tmp_path: Path,
) -> None:
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        row = pay(loop, [inv], "ach_success")  # processing when the check is recorded
        loop.qbo.record_offline_payment(inv.qbo_id, inv.balance)
        run_cycle(loop.ctx, loop.realm)
        advance(loop, 7)
        row = payment(loop, row.key)
        assert row.status == PaymentStatus.SUCCEEDED.value
        found = entity(loop, "Payment", row.qbo_payment_id)
        assert Decimal(str(found["TotalAmt"])) == inv.balance
        assert Decimal(str(found["UnappliedAmt"])) == inv.balance  # all of it is customer credit
        assert balance(loop, inv.qbo_id) == 0  # never negative
        assert any("credit" in m.subject.lower() for m in loop.sink.mailbox.all())
        assert_clean(loop)


def test_an_edited_invoice_shows_its_current_amount_and_a_voided_one_stops_taking_payments(
    tmp_path: Path,
) -> None:
    with books_loop(tmp_path) as loop:
        edited, voided = open_invoices(loop)[:2]
        portal = PortalService(loop.ctx)
        line = entity(loop, "Invoice", edited.qbo_id)["Line"][0]
        line = {**line, "Amount": "12.34"}
        line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": "12.34"}
        loop.qbo.update_invoice(edited.qbo_id, Line=[line])
        loop.qbo.void_invoice(voided.qbo_id)
        run_cycle(loop.ctx, loop.realm)
        view = portal.invoice(loop.ctx.links.token(loop.realm, edited.qbo_id))
        assert view is not None and view.balance == balance(loop, edited.qbo_id)
        gone = portal.invoice(loop.ctx.links.token(loop.realm, voided.qbo_id))
        assert gone is None or not gone.status.payable


def test_a_payment_in_another_currency_carries_it_into_its_own_clearing_account(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        cad = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == "CAD")
        loop.qbo.add_invoice(cad["Id"], Decimal("250.00"))
        run_cycle(loop.ctx, loop.realm)
        inv = open_invoices(loop, "CAD")[0]
        row = pay(loop, [inv])
        found = entity(loop, "Payment", row.qbo_payment_id)
        assert found["CurrencyRef"]["value"] == "CAD"
        clearing = next(a for a in qbo(loop, "Account") if a["Name"] == "Stripe Clearing CAD")
        assert found["DepositToAccountRef"]["value"] == clearing["Id"]
        fee = next(
            p
            for p in qbo(loop, "Purchase")
            if row.payment_intent_id and row.payment_intent_id in p["PrivateNote"]
        )
        assert fee["AccountRef"]["value"] == clearing["Id"] and fee["CurrencyRef"]["value"] == "CAD"
        report = assert_clean(loop)
        assert "CAD" in report.totals
