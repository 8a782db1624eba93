"""Which payment methods a customer is offered: the company's ``payment_methods``, minus bank
debit while the customer is on credit hold."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.store import holds

BANK_DEBIT = "us_bank_account"


def offered(ctx: Context, session: Session, realm_id: str, customer_id: str) -> tuple[str, ...]:
    """Empty when the customer is on hold and the company takes bank debit only: they must
    arrange payment with the business. ``bank_debit_strikes = 0`` turns holds off entirely."""
    company = ctx.settings.company(realm_id)
    if company.bank_debit_strikes == 0 or holds.active(session, realm_id, customer_id) is None:
        return company.payment_methods
    return on_hold(company.payment_methods)


def on_hold(company_methods: Sequence[str]) -> tuple[str, ...]:
    """What a customer on hold may use of what the company takes."""
    return tuple(m for m in company_methods if m != BANK_DEBIT)


def offers_exactly(session_methods: Sequence[str] | None, allowed: Sequence[str]) -> bool:
    """Whether a Checkout Session offering ``session_methods`` offers what the payer may use now:
    no more (bank debit while on hold) and no less (bank debit again once released). A session
    whose methods were never recorded is assumed to differ."""
    return session_methods is not None and set(session_methods) == set(allowed)
