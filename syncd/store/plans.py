"""Installment plans in the store: making a plan with its installments, finding the plans in force
and their installments.

Every function works in the caller's transaction. A plan and all its installments are written in
one; the single-plan-per-invoice rule is checked under the same transaction, so two staff making
a plan for one invoice at once end with one plan (the second sees the first, or, on PostgreSQL,
one of the two commits fails and nothing of it is kept)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.domain.plans import Cadence, InstallmentStatus, PlanStatus
from syncd.store.models import InstallmentPlan, PlanInstallment

IN_FORCE = (PlanStatus.ACTIVE.value, PlanStatus.SUSPENDED.value)
# Waiting on the customer's own payment through a link: a link payment covers these, oldest first.
BY_LINK = (InstallmentStatus.LINK_SENT.value, InstallmentStatus.MISSED.value)
KEY_PREFIX = "plan:"  # of every installment charge's payment key


def charge_key(realm_id: str, plan_id: int, seq: int, attempt: int) -> str:
    """One attempt's key: its payment key and, with a prefix, its Stripe idempotency key."""
    return f"{KEY_PREFIX}{realm_id}:{plan_id}:{seq}:{attempt}"


def parse_key(key: str) -> tuple[int, int, int] | None:
    """(plan, seq, attempt) of a charge key, None when it is not one."""
    parts = key.split(":")
    if len(parts) != 5 or parts[0] != KEY_PREFIX[:-1]:
        return None
    try:
        return int(parts[2]), int(parts[3]), int(parts[4])
    except ValueError:
        return None


def in_force(session: Session, realm_id: str, invoice_id: str) -> InstallmentPlan | None:
    """The invoice's active or suspended plan."""
    return session.scalars(
        select(InstallmentPlan).where(
            InstallmentPlan.company_id == realm_id,
            InstallmentPlan.invoice_id == invoice_id,
            InstallmentPlan.status.in_(IN_FORCE),
        )
    ).first()


def active_invoices(session: Session, realm_id: str) -> set[str]:
    """The invoices a plan in force pays: no reminder step and no autopay charge for these. A
    suspended plan holds its invoice too, until staff cancel it (then the invoice is reminded and
    autopaid as any other)."""
    return set(
        session.scalars(
            select(InstallmentPlan.invoice_id).where(
                InstallmentPlan.company_id == realm_id, InstallmentPlan.status.in_(IN_FORCE)
            )
        )
    )


def create(
    session: Session,
    *,
    realm_id: str,
    customer_id: str,
    invoice_id: str,
    currency: str,
    total: Decimal,
    balance: Decimal,
    amounts: Sequence[Decimal],
    dates: Sequence[date],
    every: Cadence,
    now: datetime,
) -> InstallmentPlan:
    """The plan and its installments (``amounts[0]`` the down payment, on ``dates[0]``)."""
    plan = InstallmentPlan(
        company_id=realm_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        currency=currency,
        total=total,
        balance=balance,
        down=amounts[0],
        count=len(amounts) - 1,
        every=every.value,
        start_on=dates[0],
        status=PlanStatus.ACTIVE.value,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    for seq, (amount, day) in enumerate(zip(amounts, dates, strict=True)):
        session.add(
            PlanInstallment(
                plan_id=plan.id,
                seq=seq,
                company_id=realm_id,
                customer_id=customer_id,
                invoice_id=invoice_id,
                amount=amount,
                currency=currency,
                due_on=day,
                charge_on=day,
                status=InstallmentStatus.SCHEDULED.value,
                attempt=0,
                updated_at=now,
            )
        )
    session.flush()
    return plan


def plans_of(
    session: Session, realm_id: str, statuses: Sequence[PlanStatus] | None = None
) -> list[InstallmentPlan]:
    query = select(InstallmentPlan).where(InstallmentPlan.company_id == realm_id)
    if statuses is not None:
        query = query.where(InstallmentPlan.status.in_([s.value for s in statuses]))
    return list(session.scalars(query.order_by(InstallmentPlan.id)))


def plans_of_customer(session: Session, realm_id: str, customer_id: str) -> list[InstallmentPlan]:
    """The customer's plans, newest first."""
    return list(
        session.scalars(
            select(InstallmentPlan)
            .where(InstallmentPlan.company_id == realm_id, InstallmentPlan.customer_id == customer_id)
            .order_by(InstallmentPlan.id.desc())
        )
    )


def installments(session: Session, plan_id: int) -> list[PlanInstallment]:
    return list(
        session.scalars(
            select(PlanInstallment).where(PlanInstallment.plan_id == plan_id).order_by(PlanInstallment.seq)
        )
    )


def installments_of(session: Session, plan_ids: Sequence[int]) -> dict[int, list[PlanInstallment]]:
    """The installments of several plans in one read, by plan, in order."""
    found: dict[int, list[PlanInstallment]] = {i: [] for i in plan_ids}
    if not plan_ids:
        return found
    rows = session.scalars(
        select(PlanInstallment)
        .where(PlanInstallment.plan_id.in_(list(plan_ids)))
        .order_by(PlanInstallment.plan_id, PlanInstallment.seq)
    )
    for row in rows:
        found[row.plan_id].append(row)
    return found


def move_plan(plan: InstallmentPlan, to: PlanStatus, reason: str | None, *, now: datetime) -> None:
    plan.status = to.value
    plan.status_reason = reason[:200] if reason else None
    plan.updated_at = now


def move(row: PlanInstallment, to: InstallmentStatus, *, now: datetime) -> None:
    row.status = to.value
    row.updated_at = now


def due_by_link(session: Session, realm_id: str, invoice_id: str) -> Decimal | None:
    """What the invoice's active plan asks of the customer through its link now (installments
    sent or missed), for the invoice page to offer exactly; None when nothing is asked."""
    amount = session.scalar(
        select(func.sum(PlanInstallment.amount))
        .join(InstallmentPlan, InstallmentPlan.id == PlanInstallment.plan_id)
        .where(
            InstallmentPlan.company_id == realm_id,
            InstallmentPlan.invoice_id == invoice_id,
            InstallmentPlan.status == PlanStatus.ACTIVE.value,
            PlanInstallment.status.in_(BY_LINK),
        )
    )
    return Decimal(amount) if amount else None


def to_follow(session: Session, realm_id: str, customer_id: str, until: date) -> list[PlanInstallment]:
    """The customer's installments a collector follows up: those of an active plan missed, or not
    paid yet and due on or before ``until``, oldest first."""
    waiting = (
        InstallmentStatus.SCHEDULED.value,
        InstallmentStatus.CHARGING.value,
        InstallmentStatus.LINK_SENT.value,
    )
    return list(
        session.scalars(
            select(PlanInstallment)
            .join(InstallmentPlan, InstallmentPlan.id == PlanInstallment.plan_id)
            .where(
                InstallmentPlan.company_id == realm_id,
                InstallmentPlan.customer_id == customer_id,
                InstallmentPlan.status == PlanStatus.ACTIVE.value,
                (PlanInstallment.status == InstallmentStatus.MISSED.value)
                | (PlanInstallment.status.in_(waiting) & (PlanInstallment.due_on <= until)),
            )
            .order_by(PlanInstallment.due_on, PlanInstallment.plan_id, PlanInstallment.seq)
        )
    )
