"""Which syncd payment a Stripe payment intent belongs to, even before syncd has linked them.

A refund or dispute event can overtake the events of the payment itself (webhooks are reordered,
a crash delays the inbox), so the payment row may not carry its intent id yet; the intent's own
metadata names syncd's payment key, which finds it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.context import Context
from syncd.store import payments
from syncd.store.models import PaymentRow


@dataclass(frozen=True, slots=True)
class Payer:
    payment_key: str
    company_id: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    qbo_payment_id: str | None


def _snapshot(row: PaymentRow) -> Payer:
    return Payer(row.key, row.company_id, row.customer_id, tuple(row.invoice_ids), row.qbo_payment_id)


def payer_of(ctx: Context, intent_id: str) -> Payer | None:
    """The syncd payment behind ``intent_id``, or None when syncd did not take it."""
    with ctx.db.transaction() as session:
        row = payments.by_intent(session, intent_id)
        if row is not None:
            return _snapshot(row)
    key = ctx.stripe.get_payment_intent(intent_id).metadata.get("payment_key")
    if not key:
        return None
    with ctx.db.transaction() as session:
        row = session.get(PaymentRow, key)
        return _snapshot(row) if row is not None else None


def fallback_company(ctx: Context) -> str | None:
    """With one company configured, every Stripe movement is its own."""
    companies = ctx.settings.companies
    return companies[0].realm_id if len(companies) == 1 else None
