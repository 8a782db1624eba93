"""Card authorisation rows: look-ups by company, customer and status, and status moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.authorizations import AuthorizationStatus
from syncd.store.models import CardAuthorizationRow


def of_company(
    session: Session, realm_id: str, statuses: Sequence[AuthorizationStatus] | None = None
) -> list[CardAuthorizationRow]:
    """The company's authorisations (in ``statuses`` when given), oldest first."""
    query = select(CardAuthorizationRow).where(CardAuthorizationRow.company_id == realm_id)
    if statuses is not None:
        query = query.where(CardAuthorizationRow.status.in_([s.value for s in statuses]))
    return list(session.scalars(query.order_by(CardAuthorizationRow.placed_at, CardAuthorizationRow.id)))


def of_customer(
    session: Session, realm_id: str, customer_id: str, limit: int = 10
) -> list[CardAuthorizationRow]:
    """The customer's latest authorisations, newest first (what the account page shows)."""
    return list(
        session.scalars(
            select(CardAuthorizationRow)
            .where(
                CardAuthorizationRow.company_id == realm_id, CardAuthorizationRow.customer_id == customer_id
            )
            .order_by(CardAuthorizationRow.placed_at.desc(), CardAuthorizationRow.id)
            .limit(limit)
        )
    )


def used_invoices(session: Session, realm_id: str, customer_id: str) -> set[str]:
    """Invoices an authorisation of the customer was already matched to (one hold per invoice)."""
    found = session.scalars(
        select(CardAuthorizationRow.invoice_id).where(
            CardAuthorizationRow.company_id == realm_id,
            CardAuthorizationRow.customer_id == customer_id,
            CardAuthorizationRow.invoice_id.is_not(None),
        )
    )
    return {str(i) for i in found}


def move(row: CardAuthorizationRow, status: AuthorizationStatus, *, now: datetime) -> None:
    row.status = status.value
    row.updated_at = now
    if status is AuthorizationStatus.CAPTURED:
        row.captured_at = now
    elif status in (AuthorizationStatus.RELEASED, AuthorizationStatus.EXPIRED):
        row.released_at = now
