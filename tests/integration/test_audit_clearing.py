"""``syncd audit`` reads the clearing account itself, over both simulators: what a bookkeeper does to
it in QuickBooks (a copied Transfer or Payment, a stray Deposit, a re-dated or re-applied or deleted
Payment) is a difference naming the QBO type, Id, amount and date; a failed write is named as such."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from books_loop import (
    advance,
    assert_clean,
    audit,
    books_loop,
    entity,
    open_invoices,
    pay,
    qbo,
    settle,
)
from loop_harness import Loop
from sqlalchemy import select

from syncd.audit import AuditReport, Difference
from syncd.stages.collect import open_attempt
from syncd.stages.cycle import run_cycle
from syncd.store.models import Effect, PaymentRow

_SERVER_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "Line", "UnappliedAmt")


def _copy(row: dict[str, Any], *, keep_lines: bool = False) -> dict[str, Any]:
    """What a bookkeeper's "copy" of an entry sends: everything but QBO's own fields."""
    body = {k: v for k, v in row.items() if k not in _SERVER_FIELDS}
    if keep_lines and "Line" in row:
        body["Line"] = [{k: v for k, v in line.items() if k != "Id"} for line in row["Line"]]
    return body


def _diff(report: AuditReport, ref: str) -> Difference:
    found = [d for d in report.differences if d.ref == ref]
    assert found, f"no difference for {ref}:\n{report.to_text()}"
    return found[0]


def _clearing(loop: Loop) -> dict[str, Any]:
    return next(a for a in qbo(loop, "Account") if a["Name"] == "Stripe Clearing")


def test_a_copied_payout_transfer_is_flagged_with_its_type_id_amount_and_date(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        for inv in open_invoices(loop)[:2]:
            pay(loop, [inv])
        advance(loop, 5)
        (transfer,) = qbo(loop, "Transfer")
        before = assert_clean(loop)
        copy_id = loop.qbo.create_entity("Transfer", _copy(transfer))
        report = audit(loop)
        diff = _diff(report, f"Transfer {copy_id}")
        amount = Decimal(str(transfer["Amount"]))
        assert f"QBO Transfer {copy_id} of {amount} dated {transfer['TxnDate']}" in diff.problem
        assert f"a copy of QBO Transfer {transfer['Id']}" in diff.problem
        assert not report.totals["USD"].agrees
        assert before.qbo_requests == 1  # the whole clearing account in one batch call


def test_a_syncd_payment_copied_into_clearing_is_flagged(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        row = pay(loop, open_invoices(loop)[:1])
        original = entity(loop, "Payment", row.qbo_payment_id)
        copy_id = loop.qbo.create_entity("Payment", _copy(original))
        report = audit(loop)
        diff = _diff(report, f"Payment {copy_id}")
        total = Decimal(str(original["TotalAmt"]))
        assert f"QBO Payment {copy_id} of {total} dated {original['TxnDate']}" in diff.problem
        assert f"a copy of QBO Payment {original['Id']}" in diff.problem
        assert report.totals["USD"].qbo_clearing - report.totals["USD"].stripe_net == total


def test_a_manual_deposit_into_stripe_clearing_is_flagged(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        pay(loop, open_invoices(loop)[:1])
        income = next(a for a in qbo(loop, "Account") if a["Name"] == "Services")
        today = loop.ctx.clock().date().isoformat()
        deposit_id = loop.qbo.create_entity(
            "Deposit",
            {
                "DepositToAccountRef": {"value": _clearing(loop)["Id"]},
                "TxnDate": today,
                "Line": [
                    {
                        "Amount": "500.00",
                        "DetailType": "DepositLineDetail",
                        "DepositLineDetail": {"AccountRef": {"value": income["Id"]}},
                    }
                ],
            },
        )
        report = audit(loop)
        diff = _diff(report, f"Deposit {deposit_id}")
        assert f"QBO Deposit {deposit_id} of 500.00 dated {today}" in diff.problem
        assert "into the Stripe clearing account" in diff.problem
        assert report.totals["USD"].qbo_clearing - report.totals["USD"].stripe_net == Decimal("500.00")


def test_a_payment_re_dated_out_of_the_period_is_flagged(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        row = pay(loop, open_invoices(loop)[:1])
        paid_on = date.fromisoformat(entity(loop, "Payment", row.qbo_payment_id)["TxnDate"])
        moved = paid_on - timedelta(days=60)
        loop.qbo.update_entity("Payment", row.qbo_payment_id or "", TxnDate=moved.isoformat())
        report = audit(loop, paid_on - timedelta(days=1), paid_on + timedelta(days=1))
        diff = _diff(report, f"Payment {row.qbo_payment_id}")
        assert f"dated {moved.isoformat()}" in diff.problem and "re-dated" in diff.problem
        assert paid_on.isoformat() in diff.action
        assert not report.totals["USD"].agrees  # QuickBooks counts it 60 days earlier


def test_a_payment_re_applied_to_another_invoice_is_flagged(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        first = open_invoices(loop)[0]
        other = loop.qbo.add_invoice(first.customer_id, first.balance + Decimal("10.00"))
        run_cycle(loop.ctx, loop.realm)
        row = pay(loop, [first])
        assert_clean(loop)
        loop.qbo.update_entity(
            "Payment",
            row.qbo_payment_id or "",
            Line=[{"Amount": str(first.balance), "LinkedTxn": [{"TxnId": other, "TxnType": "Invoice"}]}],
        )
        diff = _diff(audit(loop), f"Payment {row.qbo_payment_id}")
        assert f"applied to invoice(s) {other}" in diff.problem and "re-applied" in diff.problem
        assert f"of {first.balance} dated" in diff.problem


def test_a_syncd_payment_deleted_in_quickbooks_is_a_charge_with_no_entry(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        row = pay(loop, open_invoices(loop)[:1])
        loop.qbo.delete_entity("Payment", row.qbo_payment_id or "")
        (txn,) = [b for b in loop.stripe.objects("balance_transaction") if b["type"] in ("charge", "payment")]
        diff = _diff(audit(loop), str(txn["id"]))
        assert "has no QBO entry" in diff.problem and f"Payment {row.qbo_payment_id}" in diff.problem
        assert "no longer exists" in diff.problem


def test_a_charge_whose_qbo_write_is_held_names_the_write_and_qbo_error(tmp_path: Path) -> None:
    """A charge QBO would not take (here: the connection refused) is held and retried; the audit
    names that write and QBO's answer, not a missed webhook."""
    with books_loop(tmp_path) as loop:
        inv = open_invoices(loop)[0]
        now = loop.ctx.clock()
        with loop.ctx.db.transaction() as s:
            open_attempt(s, key="k-held", invoices=[inv], amount=inv.balance, now=now)
        loop.drain()
        with loop.ctx.db.transaction() as s:
            attempt = s.get(PaymentRow, "k-held")
            assert attempt is not None and attempt.checkout_session_id
            session_id = attempt.checkout_session_id
        loop.qbo.faults.unauthorized_next(1_000_000)
        loop.stripe.pay_checkout(session_id, "card_success")
        settle(loop)
        loop.qbo.faults.reset()
        with loop.ctx.db.transaction() as s:
            held = s.scalars(select(Effect).where(Effect.kind == "qbo.payment")).one()
            assert held.status == "pending" and held.held_at is not None, held.last_error
            key, error = held.key, held.last_error or ""
        report = audit(loop)
        (txn,) = [b for b in loop.stripe.objects("balance_transaction") if b["type"] in ("charge", "payment")]
        diff = _diff(report, str(txn["id"]))
        assert "writing its QBO Payment is held" in diff.problem and error in diff.problem
        assert "webhook" not in diff.problem + diff.action
        assert key in diff.action
