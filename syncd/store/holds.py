"""Credit holds: a customer's strikes (failed or returned bank debits), and the holds placed on
them and released by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.domain.payments import PaymentStatus
from syncd.store.models import CreditHold, PaymentRow

AGAINST = (PaymentStatus.RETURNED.value, PaymentStatus.FAILED.value)


def strikes(session: Session, realm_id: str, customer_id: str) -> int:
    """Every payment of the customer that failed after processing or was returned, ever (both are
    terminal, so the count only grows)."""
    count = session.scalar(
        select(func.count())
        .select_from(PaymentRow)
        .where(
            PaymentRow.company_id == realm_id,
            PaymentRow.customer_id == customer_id,
            PaymentRow.status.in_(AGAINST),
        )
    )
    return int(count or 0)


def _latest(session: Session, realm_id: str, customer_id: str) -> CreditHold | None:
    return session.scalar(
        select(CreditHold)
        .where(CreditHold.company_id == realm_id, CreditHold.customer_id == customer_id)
        .order_by(CreditHold.seq.desc())
        .limit(1)
    )


def strikes_since_release(session: Session, realm_id: str, customer_id: str) -> int:
    """Strikes recorded after the customer's last release (all of them if never released).

    Counted against the total at release rather than by timestamps, so clocks cannot disagree.
    """
    baseline = session.scalar(
        select(func.max(CreditHold.strikes_at_release)).where(
            CreditHold.company_id == realm_id, CreditHold.customer_id == customer_id
        )
    )
    return strikes(session, realm_id, customer_id) - int(baseline or 0)


def active(session: Session, realm_id: str, customer_id: str) -> CreditHold | None:
    """The customer's hold that has not been released, if any."""
    latest = _latest(session, realm_id, customer_id)
    return latest if latest is not None and latest.released_at is None else None


def place(session: Session, realm_id: str, customer_id: str, *, strikes: int, now: datetime) -> CreditHold:
    """A new hold, numbered after the customer's earlier ones (the caller checks none is active)."""
    latest = _latest(session, realm_id, customer_id)
    hold = CreditHold(
        company_id=realm_id,
        customer_id=customer_id,
        seq=(latest.seq if latest is not None else 0) + 1,
        placed_at=now,
        strikes_at_placement=strikes,
    )
    session.add(hold)
    session.flush()
    return hold


def release(session: Session, realm_id: str, customer_id: str, *, now: datetime) -> CreditHold | None:
    """Lift the customer's active hold; None when they are not on hold."""
    hold = active(session, realm_id, customer_id)
    if hold is None:
        return None
    hold.released_at = now
    hold.strikes_at_release = strikes(session, realm_id, customer_id)
    return hold


def current(session: Session, realm_id: str) -> list[CreditHold]:
    """The company's customers on hold now, oldest hold first."""
    rows = session.scalars(
        select(CreditHold)
        .where(CreditHold.company_id == realm_id, CreditHold.released_at.is_(None))
        .order_by(CreditHold.placed_at, CreditHold.customer_id)
    )
    return list(rows)
