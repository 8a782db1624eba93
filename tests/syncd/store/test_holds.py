"""Credit holds in the store: strikes, place, release, who is on hold — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from syncd.domain.payments import PaymentStatus
from syncd.store import holds
from syncd.store.engine import Database
from syncd.store.models import CreditHold, PaymentRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "r1"


def _payment(db: Database, key: str, customer: str, status: PaymentStatus, realm: str = REALM) -> None:
    with db.transaction() as s:
        s.add(
            PaymentRow(
                key=key,
                company_id=realm,
                customer_id=customer,
                invoice_ids=["1"],
                amount=Decimal("10.00"),
                currency="USD",
                status=status.value,
                created_at=T0,
                updated_at=T0,
            )
        )


def test_strikes_count_failed_and_returned_payments_of_that_customer_only(db: Database) -> None:
    _payment(db, "a", "c1", PaymentStatus.FAILED)
    _payment(db, "b", "c1", PaymentStatus.RETURNED)
    _payment(db, "c", "c1", PaymentStatus.SUCCEEDED)
    _payment(db, "d", "c1", PaymentStatus.EXPIRED)
    _payment(db, "e", "c2", PaymentStatus.FAILED)
    _payment(db, "f", "c1", PaymentStatus.FAILED, realm="r2")
    with db.transaction() as s:
        assert holds.strikes(s, REALM, "c1") == 2
        assert holds.strikes_since_release(s, REALM, "c1") == 2
        assert holds.strikes(s, REALM, "c2") == 1
        assert holds.strikes(s, REALM, "nobody") == 0


def test_place_release_and_place_again(db: Database) -> None:
    _payment(db, "a", "c1", PaymentStatus.FAILED)
    _payment(db, "b", "c1", PaymentStatus.RETURNED)
    with db.transaction() as s:
        assert holds.active(s, REALM, "c1") is None
        first = holds.place(s, REALM, "c1", strikes=2, now=T0)
        assert first.seq == 1
    with db.transaction() as s:
        held = holds.active(s, REALM, "c1")
        assert held is not None and held.placed_at == T0 and held.strikes_at_placement == 2
        assert holds.active(s, REALM, "c2") is None
        assert [h.customer_id for h in holds.current(s, REALM)] == ["c1"]
        assert holds.current(s, "r2") == []

    with db.transaction() as s:
        released = holds.release(s, REALM, "c1", now=T0 + timedelta(days=1))
        assert released is not None and released.strikes_at_release == 2
    with db.transaction() as s:
        assert holds.active(s, REALM, "c1") is None
        assert holds.current(s, REALM) == []
        assert holds.strikes(s, REALM, "c1") == 2  # the record stays
        assert holds.strikes_since_release(s, REALM, "c1") == 0  # but counts from zero again
        assert holds.release(s, REALM, "c1", now=T0) is None  # not on hold any more

    _payment(db, "c", "c1", PaymentStatus.FAILED)
    with db.transaction() as s:
        assert holds.strikes_since_release(s, REALM, "c1") == 1
        second = holds.place(s, REALM, "c1", strikes=1, now=T0 + timedelta(days=2))
        assert second.seq == 2
    with db.transaction() as s:
        held = holds.active(s, REALM, "c1")
        assert held is not None and held.seq == 2 and held.placed_at == T0 + timedelta(days=2)


def test_release_of_someone_never_held_is_none(db: Database) -> None:
    with db.transaction() as s:
        assert holds.release(s, REALM, "c9", now=T0) is None


def test_two_placements_of_the_same_hold_collide(db: Database) -> None:
    """Two transactions that both decided to place the customer's first hold: one must fail."""
    with db.transaction() as s:
        holds.place(s, REALM, "c1", strikes=2, now=T0)
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(CreditHold(company_id=REALM, customer_id="c1", seq=1, placed_at=T0, strikes_at_placement=2))
    with db.transaction() as s:
        assert len(holds.current(s, REALM)) == 1
