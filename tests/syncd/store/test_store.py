"""Inbox, cursors, leases, tokens, money and time columns, migrations — on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from syncd.errors import ConfigError
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.store import cursors, inbox, leases
from syncd.store.engine import Database
from syncd.store.migrate import current_revision, head_revision
from syncd.store.models import Company, InvoiceRow, Secret
from syncd.store.tokens import TOKENS, EncryptedTokenStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_migrated_to_head(db: Database) -> None:
    assert current_revision(db) == head_revision(db) is not None


def test_inbox_deduplicates_by_event_id(db: Database) -> None:
    with db.transaction() as s:
        assert inbox.store(s, source="stripe", event_id="evt_1", event_type="t", payload=b"{}", now=T0)
    with db.transaction() as s:
        assert not inbox.store(s, source="stripe", event_id="evt_1", event_type="t", payload=b"{}", now=T0)
        assert inbox.store(s, source="qbo", event_id="evt_1", event_type="t", payload=b"{}", now=T0)
    items = inbox.pending(db, source="stripe")
    assert [i.event_id for i in items] == ["evt_1"]
    with db.transaction() as s:
        inbox.mark_processed(s, items[0].id, now=T0)
    assert inbox.pending(db, source="stripe") == []


def test_inbox_gives_up_after_repeated_failures(db: Database) -> None:
    with db.transaction() as s:
        inbox.store(s, source="stripe", event_id="evt_bad", event_type="t", payload=b"x", now=T0)
    (item,) = inbox.pending(db, source="stripe")
    for _ in range(3):
        inbox.mark_failed(db, item.id, error="unparseable")
    assert inbox.pending(db, source="stripe", max_attempts=3) == []


def test_cursor_round_trip(db: Database) -> None:
    with db.transaction() as s:
        assert cursors.get(s, "c", "x") is None
        cursors.put(s, "c", "x", "1", now=T0)
    with db.transaction() as s:
        cursors.put(s, "c", "x", "2", now=T0)
    with db.transaction() as s:
        assert cursors.get(s, "c", "x") == "2"


def test_leases_exclude_and_expire(db: Database) -> None:
    assert leases.acquire(db, "company:1", "a", now=T0, seconds=30)
    assert not leases.acquire(db, "company:1", "b", now=T0 + timedelta(seconds=10), seconds=30)
    assert leases.acquire(db, "company:1", "a", now=T0 + timedelta(seconds=10), seconds=30)  # renew
    assert leases.holder(db, "company:1", now=T0 + timedelta(seconds=20)) == "a"
    assert leases.acquire(db, "company:1", "b", now=T0 + timedelta(seconds=41), seconds=30)  # a died
    leases.release(db, "company:1", "a")  # not the holder any more: no effect
    assert leases.holder(db, "company:1", now=T0 + timedelta(seconds=42)) == "b"


def test_money_and_time_columns_are_exact(db: Database) -> None:
    with db.transaction() as s:
        s.add(Company(realm_id="c", name="x", status="active", created_at=T0))
        s.add(
            InvoiceRow(
                company_id="c",
                qbo_id="1",
                doc_number="1",
                customer_id="1",
                currency="KWD",
                txn_date=date(2026, 1, 1),
                due_date=None,
                total=Decimal("1234567890.125"),
                balance=Decimal("0.001"),
                tax=Decimal("0"),
                lines=[],
                status="open",
                sync_token="0",
                qbo_updated_at=T0,
                mirrored_at=T0,
            )
        )
    with db.transaction() as s:
        row = s.get(InvoiceRow, ("c", "1"))
        assert row is not None
        assert row.total == Decimal("1234567890.125") and row.balance == Decimal("0.001")
        assert row.qbo_updated_at == T0 and row.qbo_updated_at.tzinfo is not None


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.transaction() as s:
        s.add(Company(realm_id="n", name="x", status="active", created_at=datetime(2026, 1, 1)))


def test_tokens_are_encrypted_at_rest(db: Database) -> None:
    box = SecretBox(SecretBox.generate())
    store = EncryptedTokenStore(db, box)
    tokens = QboTokens("access-SECRET", "refresh-SECRET", T0 + timedelta(hours=1), T0 + timedelta(days=100))
    store.save("r1", tokens)
    with db.transaction() as s:
        row = s.get(Secret, ("r1", TOKENS))
        assert row is not None and b"SECRET" not in row.ciphertext
    assert store.load("r1") == tokens
    assert store.load("nobody") is None
    with pytest.raises(ConfigError, match="not the key"):
        EncryptedTokenStore(db, SecretBox(SecretBox.generate())).load("r1")


def test_refresh_lock_is_exclusive_across_stores(db: Database) -> None:
    box = SecretBox(SecretBox.generate())
    a = EncryptedTokenStore(db, box)
    b = EncryptedTokenStore(db, box, lock_wait=0.2)
    from syncd.errors import TransientError

    with a.refresh_lock("r1"), pytest.raises(TransientError), b.refresh_lock("r1"):
        pass
    with b.refresh_lock("r1"):
        pass


def test_secret_box_errors_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="secret_key"):
        SecretBox(None)
    with pytest.raises(ConfigError, match="not a valid key"):
        SecretBox("short")
