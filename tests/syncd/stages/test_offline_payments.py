"""A collector's check reaches QBO once as a Payment on the invoice, even when its effect is
replayed after a crash, and a form sent twice records one payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from loop_harness import running_loop
from sqlalchemy import select

from syncd.domain.collections import OfflineMethod
from syncd.errors import PermanentError
from syncd.stages.cycle import run_cycle
from syncd.stages.offline_payments import record_offline_payment
from syncd.store import collections
from syncd.store.effects import EffectStatus
from syncd.store.models import Effect, InvoiceRow, OfflinePayment

ANA = "ana@northwind.test"


def test_a_check_appears_once_in_quickbooks(tmp_path: Path) -> None:
    with running_loop(tmp_path, invoices=0, timezone="UTC") as loop:
        ctx, realm = loop.ctx, loop.realm
        run_cycle(ctx, realm)
        due = datetime.now(UTC).date() - timedelta(days=20)
        invoice_id = loop.qbo.add_invoice(amount=Decimal("250.00"), due_date=due)
        run_cycle(ctx, realm)
        loop.drain()
        with ctx.db.transaction() as s:
            customer = s.scalars(select(InvoiceRow.customer_id).where(InvoiceRow.qbo_id == invoice_id)).one()

        def check(amount: str, form: str) -> bool:
            return record_offline_payment(
                ctx,
                realm,
                customer,
                invoice_id,
                method=OfflineMethod.CHECK,
                amount=Decimal(amount),
                reference="CHK 1042",
                by=ANA,
                request_id=form,
            ).created

        with pytest.raises(PermanentError, match=r"more than the 250\.00 open"):
            check("300.00", "form-0")
        assert check("250.00", "form-1") and not check("250.00", "form-1")  # sent twice: one
        with pytest.raises(PermanentError, match=r"more than the 0\.00 open"):
            check("250.00", "form-2")  # the same check entered again before the pull: refused
        loop.drain()

        def payments() -> list[dict[str, object]]:
            return [p for p in loop.qbo.entities("Payment") if p.get("PaymentRefNum") == "CHK 1042"]

        (payment,) = payments()
        assert payment["TotalAmt"] in (250, Decimal("250.00"), "250.00", 250.0)
        assert payment["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice_id  # type: ignore[index]
        assert "DepositToAccountRef" not in payment or payment["DepositToAccountRef"]
        # A crash after QBO answered, before the commit: the effect runs again under its key.
        with ctx.db.transaction() as s:
            effect = s.scalars(select(Effect).where(Effect.kind == "qbo.offline_payment")).one()
            effect.status = EffectStatus.PENDING.value
            row = s.scalars(select(OfflinePayment)).one()
            first_id, row.qbo_payment_id = row.qbo_payment_id, None
        loop.drain()
        assert len(payments()) == 1
        with ctx.db.transaction() as s:
            assert s.scalars(select(OfflinePayment)).one().qbo_payment_id == first_id
            assert [a.kind for a in collections.history(s, realm, customer)] == ["payment"]
        run_cycle(ctx, realm)  # the pull sees the invoice paid
        with ctx.db.transaction() as s:
            assert s.get(InvoiceRow, (realm, invoice_id)).status == "paid"  # type: ignore[union-attr]
