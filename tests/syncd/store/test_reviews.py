"""Entry reviews in the store: flagged once per entry, which invoices they hold — on both backends
(the migration 0003 table included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from syncd.domain.payments import PaymentStatus
from syncd.domain.reviews import EntryChange, ReviewStatus
from syncd.store import reviews
from syncd.store.engine import Database
from syncd.store.models import PaymentRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "r1"


def _payment(db: Database, key: str, invoices: list[str], qbo_payment_id: str) -> None:
    with db.transaction() as s:
        s.add(
            PaymentRow(
                key=key,
                company_id=REALM,
                customer_id="c1",
                invoice_ids=invoices,
                amount=Decimal("123.450"),
                currency="USD",
                status=PaymentStatus.SUCCEEDED.value,
                payment_intent_id=f"pi_{key}",
                qbo_payment_id=qbo_payment_id,
                created_at=T0,
                updated_at=T0,
            )
        )


def _flag(db: Database, key: str, qbo_payment_id: str, when: datetime = T0) -> bool:
    with db.transaction() as s:
        row = s.get(PaymentRow, key)
        assert row is not None
        return reviews.flag(s, row, qbo_payment_id, EntryChange.DELETED, "deleted", when) is not None


def test_an_entry_is_flagged_once_and_holds_every_invoice_it_paid(db: Database) -> None:
    _payment(db, "a", ["1", "2"], "77")
    _payment(db, "b", ["3"], "78")
    assert _flag(db, "a", "77")
    assert not _flag(db, "a", "77", T0 + timedelta(minutes=2))  # an overlap re-read
    with db.transaction() as s:
        assert reviews.held_invoices(s, REALM) == {"1", "2"}
        assert reviews.held_invoices(s, "other") == set()
        (only,) = reviews.listed(s, REALM)
        assert (only.amount, only.payment_intent_id, only.detected_at) == (Decimal("123.450"), "pi_a", T0)


def test_a_rebooked_entry_holds_until_its_payment_is_written_and_a_released_one_not_at_all(
    db: Database,
) -> None:
    _payment(db, "a", ["1"], "77")
    _payment(db, "b", ["2"], "78")
    _flag(db, "a", "77")
    _flag(db, "b", "78")
    with db.transaction() as s:
        rebooked, released = reviews.listed(s, REALM)
        reviews.resolve(rebooked, ReviewStatus.REBOOKED, T0)
        reviews.resolve(released, ReviewStatus.RELEASED, T0)
        row = s.get(PaymentRow, "a")
        assert row is not None
        row.qbo_payment_id = None  # the rebook is queued, not written yet
    with db.transaction() as s:
        assert reviews.held_invoices(s, REALM) == {"1"}
        assert reviews.listed(s, REALM, open_only=True) == []
        row = s.get(PaymentRow, "a")
        assert row is not None
        row.qbo_payment_id = "79"
    with db.transaction() as s:
        assert reviews.held_invoices(s, REALM) == set()
