"""The Stripe Customer of a QBO customer: made once per company and customer, kept on the mirror row."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.store.models import CustomerRow


def ensure(ctx: Context, realm_id: str, qbo_customer_id: str, *, name: str, email: str | None) -> str:
    """The Stripe Customer id; the key makes a retried or concurrent call find the same Customer."""
    return ctx.stripe.ensure_customer(
        company=realm_id,
        qbo_customer_id=qbo_customer_id,
        name=name,
        email=email,
        idempotency_key=f"customer:{realm_id}:{qbo_customer_id}",
    )


def remember(session: Session, realm_id: str, qbo_customer_id: str, stripe_customer_id: str) -> None:
    """Keep the id on the mirrored customer; one already there stays (the first mapping wins)."""
    row = session.get(CustomerRow, (realm_id, qbo_customer_id))
    if row is not None and not row.stripe_customer_id:
        row.stripe_customer_id = stripe_customer_id
