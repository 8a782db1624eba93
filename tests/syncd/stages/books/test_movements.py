"""MoneyMovement rows: entries encoded with their clearing effect, first entry per role kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from syncd.domain import BalanceTxn, QboEntryRef
from syncd.stages.books.movements import EntryLink, entries_of, link, mark_paid_out, record
from syncd.store.engine import Database
from syncd.store.models import MoneyMovement

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


def _txn(txn_id: str = "txn_1", amount: str = "100.00", fee: str = "3.20") -> BalanceTxn:
    return BalanceTxn(
        id=txn_id,
        type="charge",
        source_id="ch_1",
        amount=Decimal(amount),
        fee=Decimal(fee),
        net=Decimal(amount) - Decimal(fee),
        currency="usd",
        exchange_rate=None,
        created=AT,
        available_on=AT + timedelta(days=2),
    )


def test_entry_link_round_trips_exactly() -> None:
    entry = EntryLink("fee", "Purchase", "42", Decimal("-0.125"))
    assert EntryLink.decode("fee", entry.encode()) == entry
    assert link("payment", QboEntryRef("Payment", "7", "0"), Decimal("12")).encode() == "Payment:7:12"


def test_record_creates_then_completes_and_never_rewrites(db: Database) -> None:
    txn = _txn()
    with db.transaction() as s:
        record(s, "r1", txn, EntryLink("payment", "Payment", "7", Decimal("100.00")))
    with db.transaction() as s:
        record(
            s,
            "r1",
            txn,
            EntryLink("payment", "Payment", "99", Decimal("1")),  # a replay: ignored
            EntryLink("fee", "Purchase", "8", Decimal("-3.20")),
            payout_id="po_1",
        )
    with db.transaction() as s:
        row = s.get(MoneyMovement, "txn_1")
        assert row is not None
        assert row.currency == "USD" and row.net == Decimal("96.80") and row.payout_id == "po_1"
        assert [(e.role, e.qbo_id, e.clearing) for e in entries_of(row)] == [
            ("fee", "8", Decimal("-3.20")),
            ("payment", "7", Decimal("100.00")),
        ]


def test_mark_paid_out_only_fills_a_missing_payout(db: Database) -> None:
    with db.transaction() as s:
        record(s, "r1", _txn("txn_a"))
        record(s, "r1", _txn("txn_b"), payout_id="po_old")
    with db.transaction() as s:
        mark_paid_out(s, ["txn_a", "txn_b", "txn_unknown"], "po_new")
    with db.transaction() as s:
        assert s.get(MoneyMovement, "txn_a").payout_id == "po_new"  # type: ignore[union-attr]
        assert s.get(MoneyMovement, "txn_b").payout_id == "po_old"  # type: ignore[union-attr]
