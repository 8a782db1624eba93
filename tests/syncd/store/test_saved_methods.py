"""Saved methods, consents and card requests in the store — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from syncd.domain import MethodKind, SavedMethod
from syncd.store import saved_methods as store
from syncd.store.engine import Database
from syncd.store.models import CardRequest, Company, CustomerRow, SavedMethodRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "r1"


def _card(pm: str, *, customer: str | None = "cus_1", exp: tuple[int, int] = (8, 2030)) -> SavedMethod:
    return SavedMethod(
        id=pm,
        kind=MethodKind.CARD,
        last4="4242",
        customer_id=customer,
        created=T0,
        brand="visa",
        exp_month=exp[0],
        exp_year=exp[1],
    )


def _bank(pm: str) -> SavedMethod:
    return SavedMethod(
        id=pm,
        kind=MethodKind.US_BANK_ACCOUNT,
        last4="6789",
        customer_id="cus_1",
        created=T0,
        bank_name="STRIPE TEST BANK",
    )


@pytest.fixture
def customer(db: Database) -> None:
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Acme", created_at=T0))
        s.flush()
        s.add(
            CustomerRow(
                company_id=REALM,
                qbo_id="58",
                display_name="Amy",
                email="amy@example.com",
                currency="USD",
                stripe_customer_id="cus_1",
                updated_at=T0,
            )
        )


def test_the_stripe_customer_leads_to_its_qbo_customer(db: Database, customer: None) -> None:
    with db.transaction() as s:
        found = store.customer_of(s, "cus_1")
        assert found is not None and (found.company_id, found.qbo_id) == (REALM, "58")
        assert store.customer_of(s, "cus_other") is None


def test_attach_twice_is_one_row_and_detach_retires_it(db: Database) -> None:
    with db.transaction() as s:
        store.attached(s, REALM, "58", _card("pm_1"), now=T0)
        store.attached(s, REALM, "58", _bank("pm_2"), now=T0 + timedelta(seconds=1))
    with db.transaction() as s:
        store.attached(s, REALM, "58", _card("pm_1"), now=T0 + timedelta(minutes=1))
    with db.transaction() as s:
        rows = store.on_file(s, REALM, "58")
        assert [(r.payment_method_id, r.kind, r.brand, r.bank_name) for r in rows] == [
            ("pm_1", "card", "visa", None),
            ("pm_2", "us_bank_account", None, "STRIPE TEST BANK"),
        ]
        assert rows[0].attached_at == T0  # a replayed attach keeps the first time
        store.detached(s, _card("pm_1", customer=None), REALM, "58", now=T0 + timedelta(hours=1))
    with db.transaction() as s:
        assert [r.payment_method_id for r in store.on_file(s, REALM, "58")] == ["pm_2"]
        row = s.get(SavedMethodRow, "pm_1")
        assert row is not None and row.detached_at == T0 + timedelta(hours=1)


def test_a_late_attach_does_not_bring_a_detached_method_back(db: Database) -> None:
    with db.transaction() as s:
        store.detached(s, _card("pm_1"), REALM, "58", now=T0 + timedelta(seconds=5))
    with db.transaction() as s:
        store.attached(s, REALM, "58", _card("pm_1"), now=T0 + timedelta(seconds=6))
    with db.transaction() as s:
        assert store.on_file(s, REALM, "58") == []


def test_one_default_per_customer(db: Database) -> None:
    with db.transaction() as s:
        store.attached(s, REALM, "58", _card("pm_1"), now=T0)
        store.attached(s, REALM, "58", _card("pm_2"), now=T0 + timedelta(seconds=1))
        store.mark_default(s, REALM, "58", "pm_1", now=T0)
        store.mark_default(s, REALM, "58", "pm_2", now=T0)
    with db.transaction() as s:
        assert [(r.payment_method_id, r.is_default) for r in store.on_file(s, REALM, "58")] == [
            ("pm_1", False),
            ("pm_2", True),
        ]


def test_cards_lists_only_attached_cards_of_the_company(db: Database) -> None:
    with db.transaction() as s:
        store.attached(s, REALM, "58", _card("pm_1"), now=T0)
        store.attached(s, REALM, "58", _bank("pm_2"), now=T0)
        store.attached(s, "r2", "9", _card("pm_3"), now=T0)
        store.detached(s, _card("pm_4"), REALM, "58", now=T0)
    with db.transaction() as s:
        assert [r.payment_method_id for r in store.cards(s, REALM)] == ["pm_1"]


def test_the_first_consent_stands(db: Database) -> None:
    with db.transaction() as s:
        store.consent(
            s,
            reference="card-request:r1:58:2026-11-01",
            realm_id=REALM,
            qbo_customer_id="58",
            text="I authorise Acme …",
            ip="203.0.113.9",
            user_agent="Mozilla/5.0 " + "x" * 600,
            now=T0,
        )
    with db.transaction() as s:
        again = store.consent(
            s,
            reference="card-request:r1:58:2026-11-01",
            realm_id=REALM,
            qbo_customer_id="58",
            text="other text",
            ip="198.51.100.1",
            user_agent=None,
            now=T0 + timedelta(minutes=5),
        )
        assert (again.text, again.ip, again.consented_at) == ("I authorise Acme …", "203.0.113.9", T0)
        assert again.user_agent is not None and len(again.user_agent) == 512


def test_a_request_key_is_one_request(db: Database) -> None:
    def add(digest: str) -> None:
        with db.transaction() as s:
            s.add(
                CardRequest(
                    digest=digest,
                    request_key="card-request:r1:58:2026-11-01",
                    company_id=REALM,
                    qbo_customer_id="58",
                    created_at=T0,
                    expires_at=T0 + timedelta(days=30),
                    attempts=0,
                )
            )

    add("a" * 64)
    with pytest.raises(IntegrityError):
        add("b" * 64)
    with db.transaction() as s:
        found = store.request_by_key(s, "card-request:r1:58:2026-11-01")
        assert found is not None and found.digest == "a" * 64
