"""The QBO accounts the books post to, kept per company and currency once account setup found them.

Contract:
- ``keep`` replaces what is kept for one company and currency, inside the caller's transaction;
  an account the books do not use in that currency (no rounding account in USD) has no row.
- ``kept`` answers only a complete set (clearing, fees and the Stripe vendor at least); an
  incomplete one reads as nothing kept, so account setup runs again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain import AccountRef, BooksAccounts
from syncd.store.models import BooksAccount


class Role(enum.Enum):
    """What an account is for; the values are ``BooksAccounts``' field names."""

    CLEARING = "clearing"
    FEE_EXPENSE = "fee_expense"
    BANK = "bank"
    STRIPE_VENDOR = "stripe_vendor"
    PAYMENT_METHOD = "payment_method"
    REFUND_INCOME = "refund_income"
    ROUNDING = "rounding"


REQUIRED = (Role.CLEARING, Role.FEE_EXPENSE, Role.STRIPE_VENDOR)


def kept(session: Session, company_id: str, currency: str) -> BooksAccounts | None:
    rows = session.scalars(
        select(BooksAccount).where(
            BooksAccount.company_id == company_id, BooksAccount.currency == currency.upper()
        )
    )
    refs = {Role(row.role): AccountRef(row.qbo_id, row.name) for row in rows}
    if any(role not in refs for role in REQUIRED):
        return None
    return BooksAccounts(
        currency=currency.upper(),
        clearing=refs[Role.CLEARING],
        fee_expense=refs[Role.FEE_EXPENSE],
        bank=refs.get(Role.BANK),
        stripe_vendor=refs[Role.STRIPE_VENDOR],
        payment_method=refs.get(Role.PAYMENT_METHOD),
        refund_income=refs.get(Role.REFUND_INCOME),
        rounding=refs.get(Role.ROUNDING),
    )


def keep(session: Session, company_id: str, accounts: BooksAccounts, *, now: datetime) -> None:
    currency = accounts.currency.upper()
    for role in Role:
        ref: AccountRef | None = getattr(accounts, role.value)
        row = session.get(BooksAccount, (company_id, currency, role.value))
        if ref is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                BooksAccount(
                    company_id=company_id,
                    currency=currency,
                    role=role.value,
                    qbo_id=ref.qbo_id,
                    name=ref.name,
                    updated_at=now,
                )
            )
        else:
            row.qbo_id, row.name, row.updated_at = ref.qbo_id, ref.name, now


def clearing_currencies(session: Session, company_id: str) -> dict[str, str]:
    """Clearing account Id -> currency, for every currency the company's books are set up in."""
    rows = session.execute(
        select(BooksAccount.qbo_id, BooksAccount.currency).where(
            BooksAccount.company_id == company_id, BooksAccount.role == Role.CLEARING.value
        )
    )
    return {qbo_id: currency for qbo_id, currency in rows}
