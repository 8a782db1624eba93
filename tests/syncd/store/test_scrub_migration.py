"""Migration 0007 takes the payable link tokens that earlier versions stored in clear out of an
existing database: invoice memos, raw Checkout Session events and Checkout effect payloads."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from decimal import Decimal
from types import ModuleType

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from syncd.store.engine import Database
from syncd.store.migrate import MIGRATIONS
from syncd.store.models import Company, Effect, InboxEvent, InvoiceRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
TOKEN = "Ab3_-" + "x" * 27
URL = f"https://pay.example.com/i/{TOKEN}"


def _migration() -> ModuleType:
    path = next((MIGRATIONS / "versions").glob("0007_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plant(db: Database) -> None:
    """Rows as versions before 0007 wrote them (straight through the models, nothing scrubbed)."""
    with db.transaction() as s:
        s.add(Company(realm_id="c", name="x", status="active", created_at=T0))
        s.flush()
        s.add(
            InvoiceRow(
                company_id="c",
                qbo_id="1",
                doc_number="1",
                customer_id="1",
                currency="USD",
                txn_date=date(2026, 11, 1),
                due_date=None,
                total=Decimal("10"),
                balance=Decimal("10"),
                tax=Decimal("0"),
                lines=[],
                status="open",
                sync_token="1",
                memo=f"Thanks!\n\nPay online: {URL}",
                qbo_updated_at=T0,
                mirrored_at=T0,
            )
        )
        s.add(
            InboxEvent(
                source="stripe",
                event_id="evt_1",
                event_type="checkout.session.completed",
                payload=f'{{"success_url": "{URL}/return"}}'.encode(),
                received_at=T0,
                attempts=0,
            )
        )
        s.add(
            Effect(
                key="stripe:checkout:pay:c:1:1",
                kind="stripe.checkout",
                company_id="c",
                payload={"payment_key": "pay:c:1:1", "token": TOKEN},
                status="pending",
                next_attempt_at=T0,
                created_at=T0,
            )
        )


def test_old_tokens_are_scrubbed(db: Database) -> None:
    _plant(db)
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        _migration().upgrade()
    with db.transaction() as s:
        invoice = s.get(InvoiceRow, ("c", "1"))
        assert (
            invoice is not None and invoice.memo == "Thanks!\n\nPay online: https://pay.example.com/i/[link]"
        )
        event = s.query(InboxEvent).one()
        assert event.payload == b'{"success_url": "https://pay.example.com/i/[link]/return"}'
        effect = s.query(Effect).one()
        assert effect.payload == {"payment_key": "pay:c:1:1"}
