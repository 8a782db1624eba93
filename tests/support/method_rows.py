"""A saved payment method row as the store keeps it, for tests that put a card on file directly."""

from __future__ import annotations

from datetime import datetime

from syncd.store.models import SavedMethodRow


def card_on_file(pm: str, company_id: str, customer: str, at: datetime, **fields: object) -> SavedMethodRow:
    """A Visa ending 4242, expiring 08/2030, not the default; ``fields`` override any column."""
    base: dict[str, object] = {
        "payment_method_id": pm,
        "company_id": company_id,
        "qbo_customer_id": customer,
        "stripe_customer_id": "cus_1",
        "kind": "card",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 8,
        "exp_year": 2030,
        "bank_name": None,
        "is_default": False,
        "attached_at": at,
        "updated_at": at,
    }
    base.update(fields)
    return SavedMethodRow(**base)
