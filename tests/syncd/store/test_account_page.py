"""The account page's third statement carries the customer's saved methods next to its payments,
on SQLite and PostgreSQL: card expiry and bank name survive, detached and others' methods do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from method_rows import card_on_file

from syncd.ports.account import MethodItem
from syncd.store import account_page, effects
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow, PaymentRow, SavedMethodRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _method(pm: str, customer: str, **fields: object) -> SavedMethodRow:
    return card_on_file(pm, "r1", customer, T0, **fields)


def test_methods_ride_in_the_movements_statement(db: Database) -> None:
    with db.transaction() as s:
        s.add(Company(realm_id="r1", name="Acme", created_at=T0))
        s.flush()
        for qbo_id in ("58", "59"):
            s.add(
                CustomerRow(
                    company_id="r1", qbo_id=qbo_id, display_name=qbo_id, currency="USD", updated_at=T0
                )
            )
        s.add(
            PaymentRow(
                key="pay:r1:1:1",
                company_id="r1",
                customer_id="58",
                invoice_ids=["1"],
                amount=Decimal("12.50"),
                currency="USD",
                status="succeeded",
                method="card",
                created_at=T0,
                updated_at=T0,
            )
        )
        s.add(_method("pm_card", "58", is_default=True))
        bank = {
            "kind": "us_bank_account",
            "brand": None,
            "last4": "6789",
            "exp_month": None,
            "exp_year": None,
        }
        s.add(
            _method(
                "pm_bank", "58", bank_name="STRIPE TEST BANK", attached_at=T0 + timedelta(hours=1), **bank
            )
        )
        s.add(_method("pm_gone", "58", detached_at=T0))
        s.add(_method("pm_other", "59"))
    with db.transaction() as s:
        found = account_page.movements(s, "r1", "58")
    assert [(m.key, m.amount) for m in found if m.source == "payment"] == [("pay:r1:1:1", Decimal("12.50"))]
    assert account_page.methods_of(found) == [
        MethodItem("pm_card", "card", "visa", "4242", 8, 2030, None, True),
        MethodItem("pm_bank", "us_bank_account", None, "6789", None, None, "STRIPE TEST BANK", False),
    ]


def test_a_method_change_waiting_on_stripe_rides_in_the_same_statement(db: Database) -> None:
    kinds = ("stripe.default_method", "stripe.detach_method")
    with db.transaction() as s:
        s.add(Company(realm_id="r1", name="Acme", created_at=T0))
        s.flush()
        s.add(CustomerRow(company_id="r1", qbo_id="58", display_name="58", currency="USD", updated_at=T0))
        for pm in ("pm_waiting", "pm_done", "pm_calm"):
            s.add(_method(pm, "58"))
        s.add(_method("pm_others", "59"))
        s.flush()
        for key, kind, pm, status in (
            ("stripe:detach-method:pm_waiting", kinds[1], "pm_waiting", "pending"),
            ("stripe:default-method:r1:58:pm_done:x", kinds[0], "pm_done", "done"),
            ("stripe:detach-method:pm_others", kinds[1], "pm_others", "pending"),  # another customer's
            ("email:receipt:pm_calm", "email.receipt", "pm_calm", "pending"),  # not a method change
        ):
            effects.insert(s, key=key, kind=kind, company_id="r1", payload={"method_id": pm}, now=T0)
            if status == "done":
                s.flush()
                row = effects.get(s, key)
                assert row is not None
                row.status = status
    with db.transaction() as s:
        found = account_page.movements(s, "r1", "58", kinds)
    assert account_page.changing(found) == {"pm_waiting"}
    assert sorted(k.method_id for k in account_page.methods_of(found)) == ["pm_calm", "pm_done", "pm_waiting"]
    assert not [m for m in found if m.source == "payment"]
    with db.transaction() as s:
        assert account_page.changing(account_page.movements(s, "r1", "58")) == set()
