"""The books' QBO accounts have a table of their own: kept per company, currency and role, and
migration 0012 moves what earlier versions kept as blobs in the cursors table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from syncd.domain import AccountRef, BooksAccounts
from syncd.store import books_accounts, cursors
from syncd.store.engine import Database
from syncd.store.migrate import alembic_config, upgrade
from syncd.store.models import Cursor

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 2, tzinfo=UTC)
USD = BooksAccounts(
    currency="USD",
    clearing=AccountRef("90", "Stripe Clearing"),
    fee_expense=AccountRef("91", "Stripe Fees"),
    bank=AccountRef("35", "Checking"),
    stripe_vendor=AccountRef("92", "Stripe"),
    payment_method=AccountRef("7", "Stripe"),
    refund_income=AccountRef("1", "Sales"),
)
KWD = BooksAccounts(
    currency="KWD",
    clearing=AccountRef("190", "Stripe Clearing KWD"),
    fee_expense=AccountRef("91", "Stripe Fees"),
    bank=None,
    stripe_vendor=AccountRef("92", "Stripe"),
    payment_method=AccountRef("7", "Stripe"),
    refund_income=AccountRef("1", "Sales"),
    rounding=AccountRef("93", "Stripe Rounding"),
)


def _blob(accounts: BooksAccounts) -> str:
    def ref(a: AccountRef | None) -> dict[str, str] | None:
        return {"qbo_id": a.qbo_id, "name": a.name} if a else None

    roles = [r.value for r in books_accounts.Role]
    return json.dumps({"currency": accounts.currency} | {r: ref(getattr(accounts, r)) for r in roles})


def test_kept_accounts_read_back_and_a_second_keep_replaces_them(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        assert books_accounts.kept(s, "r1", "usd") is None
        books_accounts.keep(s, "r1", USD, now=T0)
        books_accounts.keep(s, "r1", KWD, now=T0)
    with sqlite_db.transaction() as s:
        assert books_accounts.kept(s, "r1", "usd") == USD
        assert books_accounts.kept(s, "r2", "USD") is None
        # The payout bank is no longer used: its row goes, the rest is updated.
        moved = BooksAccounts("USD", AccountRef("95", "New"), USD.fee_expense, None, USD.stripe_vendor)
        books_accounts.keep(s, "r1", moved, now=T1)
    with sqlite_db.transaction() as s:
        assert books_accounts.kept(s, "r1", "USD") == moved
        assert books_accounts.clearing_currencies(s, "r1") == {"95": "USD", "190": "KWD"}


def test_migration_moves_the_blobs_out_of_cursors_and_back_on_downgrade(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0011")
    old_blob = json.loads(_blob(USD))
    del old_blob["refund_income"]  # kept before refund accounts existed
    with db.transaction() as s:
        cursors.put(s, "r1", "qbo.accounts.USD", _blob(USD), now=T0)
        cursors.put(s, "r1", "qbo.accounts.KWD", _blob(KWD), now=T1)
        cursors.put(s, "r2", "qbo.accounts.CAD", json.dumps(old_blob | {"currency": "CAD"}), now=T0)
        cursors.put(s, "r1", "qbo.changes", "2026-11-01T00:00:00+00:00", now=T0)
    upgrade(db)
    with db.transaction() as s:
        assert books_accounts.kept(s, "r1", "USD") == USD
        assert books_accounts.kept(s, "r1", "KWD") == KWD
        # Looked up again by account setup, as before the move.
        assert books_accounts.kept(s, "r2", "CAD") is None
        assert [c.name for c in s.scalars(select(Cursor))] == ["qbo.changes"]

    command.downgrade(alembic_config(db), "0011")
    with db.transaction() as s:
        restored = {(c.company_id, c.name): (c.value, c.updated_at) for c in s.scalars(select(Cursor))}
    assert restored.pop(("r1", "qbo.changes")) == ("2026-11-01T00:00:00+00:00", T0)
    assert {key: (json.loads(value), at) for key, (value, at) in restored.items()} == {
        ("r1", "qbo.accounts.USD"): (json.loads(_blob(USD)), T0),
        ("r1", "qbo.accounts.KWD"): (json.loads(_blob(KWD)), T1),
    }
    with db.engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
    assert "books_accounts" not in tables
    db.dispose()
