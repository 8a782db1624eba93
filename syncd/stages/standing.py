"""A customer's payment record: bank debits that failed or were returned count against them, and
reaching the company's ``bank_debit_strikes`` puts the customer on credit hold (card only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain.payments import PaymentStatus
from syncd.stages import methods
from syncd.stages.hooks import queue_checkout_expiry
from syncd.stages.notify import queue_staff_alert
from syncd.store import holds, mirror
from syncd.store.models import CreditHold, CustomerRow, PaymentRow


def strikes(session: Session, realm_id: str, customer_id: str) -> int:
    """How many of the customer's payments failed after processing or were returned."""
    return holds.strikes(session, realm_id, customer_id)


def count_against(
    ctx: Context, session: Session, realm_id: str, customer_id: str, now: datetime
) -> CreditHold | None:
    """In the transaction that records a failed or returned bank debit: when the customer's strikes
    since their last release reach the limit, place a hold, stop the bank debit Checkout Sessions
    they still have open, and tell staff once. Returns the hold placed, if any."""
    company = ctx.settings.company(realm_id)
    limit = company.bank_debit_strikes
    if limit == 0:
        return None
    # Two strikes recorded at once (PostgreSQL) take turns here, so the second counts the first.
    session.execute(
        select(CustomerRow.qbo_id)
        .where(CustomerRow.company_id == realm_id, CustomerRow.qbo_id == customer_id)
        .with_for_update()
    )
    if holds.active(session, realm_id, customer_id) is not None:
        return None
    count = holds.strikes_since_release(session, realm_id, customer_id)
    if count < limit:
        return None
    hold = holds.place(session, realm_id, customer_id, strikes=count, now=now)
    _expire_bank_checkouts(session, realm_id, customer_id, methods.on_hold(company.payment_methods), now)
    customer = mirror.get_customer(session, realm_id, customer_id)
    who = f"{customer.display_name} (customer {customer_id})" if customer else f"Customer {customer_id}"
    if "card" in company.payment_methods:
        effect = "Their payment pages now offer card only."
    else:
        effect = (
            "This company takes bank debit only, so their payment pages now ask them to contact you "
            "instead of offering a payment."
        )
    queue_staff_alert(
        ctx,
        session,
        realm_id,
        f"hold:{realm_id}:{customer_id}:{hold.seq}",
        "Customer on credit hold",
        f"{who} now has {count} failed or returned bank payment(s), reaching the limit of {limit} "
        f"(bank_debit_strikes), so syncd put them on credit hold. {effect} To offer bank debit "
        f"again, run: syncd holds --company {realm_id} --release {customer_id}",
        now,
    )
    return hold


def _expire_bank_checkouts(
    session: Session, realm_id: str, customer_id: str, allowed: tuple[str, ...], now: datetime
) -> None:
    """A session opened before the hold still lets the customer pay by bank debit: close it (a new
    Pay press opens a card-only one)."""
    rows = session.scalars(
        select(PaymentRow).where(
            PaymentRow.company_id == realm_id,
            PaymentRow.customer_id == customer_id,
            PaymentRow.status == PaymentStatus.OPEN.value,
            PaymentRow.checkout_session_id.is_not(None),
        )
    )
    for row in rows:
        if methods.offers_exactly(row.offered_methods, allowed):
            continue
        queue_checkout_expiry(session, row, now)
