"""A customer's payment record: bank debits that failed or were returned count against them
(the staff alert says how many; credit-hold rules read ``strikes``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.domain.payments import PaymentStatus
from syncd.store.models import PaymentRow

_AGAINST = (PaymentStatus.RETURNED.value, PaymentStatus.FAILED.value)


def strikes(session: Session, realm_id: str, customer_id: str) -> int:
    """How many of the customer's payments failed after processing or were returned."""
    count = session.scalar(
        select(func.count())
        .select_from(PaymentRow)
        .where(
            PaymentRow.company_id == realm_id,
            PaymentRow.customer_id == customer_id,
            PaymentRow.status.in_(_AGAINST),
        )
    )
    return int(count or 0)
