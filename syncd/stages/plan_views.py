"""Installment plans as pages show them: a customer's plans with their schedules, in two reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.plans import PlanStatus
from syncd.ports.plans import InstallmentItem, PlanItem
from syncd.store import plans as store
from syncd.store.models import InvoiceRow

# A cancelled plan is history the customer need not see; staff see every plan.
CUSTOMER_SEES = (PlanStatus.ACTIVE, PlanStatus.SUSPENDED, PlanStatus.CLOSED)


def items(
    session: Session, realm_id: str, customer_id: str, *, everything: bool = False
) -> tuple[PlanItem, ...]:
    """The customer's plans, newest first, each with its schedule (every plan with
    ``everything``, else those in :data:`CUSTOMER_SEES`)."""
    found = store.plans_of_customer(session, realm_id, customer_id)
    if not everything:
        shown = {s.value for s in CUSTOMER_SEES}
        found = [p for p in found if p.status in shown]
    if not found:
        return ()
    parts = store.installments_of(session, [p.id for p in found])
    rows = session.execute(
        select(InvoiceRow.qbo_id, InvoiceRow.doc_number).where(
            InvoiceRow.company_id == realm_id, InvoiceRow.qbo_id.in_({p.invoice_id for p in found})
        )
    )
    numbers: dict[str, str] = {qbo_id: number for qbo_id, number in rows}
    return tuple(
        PlanItem(
            plan_id=p.id,
            invoice_id=p.invoice_id,
            invoice_number=numbers.get(p.invoice_id) or p.invoice_id,
            currency=p.currency,
            balance=p.balance,
            every=p.every,
            status=p.status,
            reason=p.status_reason,
            installments=tuple(
                InstallmentItem(seq=i.seq, due_on=i.due_on, amount=i.amount, status=i.status)
                for i in parts[p.id]
            ),
        )
        for p in found
    )
