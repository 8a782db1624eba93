"""Recurring services on the customer's account page: the upcoming invoices of each template, and
the pause / cancel the company allows (``[company.recurring]``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain.recurring import RecurAction
from syncd.ports.recurring import RecurringItem
from syncd.stages import recurring_actions
from syncd.store import recurring as store
from syncd.store.models import CustomerRow, RecurringRow

UPCOMING = 3  # invoice dates shown per service


def state_of(row: RecurringRow) -> str:
    if row.action is not None:
        done = {RecurAction.PAUSE.value: "paused", RecurAction.CANCEL.value: "cancelled"}[row.action]
        return done if not row.active else {"paused": "pausing", "cancelled": "cancelling"}[done]
    if not row.active:
        return "paused"
    return "active" if row.next_date is not None else "ended"


def items(ctx: Context, session: Session, customer: CustomerRow) -> tuple[RecurringItem, ...]:
    """The customer's recurring services, invoice templates QuickBooks makes itself first."""
    realm = customer.company_id
    found = []
    for row in store.of_customer(session, realm, customer.qbo_id):
        if not row.automated:
            continue
        state = state_of(row)
        schedule = store.schedule_of(row)
        found.append(
            RecurringItem(
                template_id=row.qbo_id,
                name=row.name or "Recurring service",
                amount=row.amount,
                currency=row.currency,
                interval=row.interval,
                every=row.every,
                upcoming=tuple(schedule.upcoming(UPCOMING)) if state == "active" else (),
                ends_on=schedule.ends_on(),
                trial=store.is_trial(row),
                state=state,
                can_pause=recurring_actions.allowed(ctx, realm, RecurAction.PAUSE, row),
                can_cancel=recurring_actions.allowed(ctx, realm, RecurAction.CANCEL, row),
            )
        )
    return tuple(found)


def act(
    ctx: Context,
    session: Session,
    customer: CustomerRow,
    template_id: str,
    action: RecurAction,
    *,
    today: date,
    now: datetime,
) -> bool:
    """Pause or cancel one of the customer's templates when the company allows it; False when it
    is not theirs, not allowed, or already stopped."""
    row = store.get(session, customer.company_id, template_id)
    if row is None or row.customer_id != customer.qbo_id or not row.automated:
        return False
    if not recurring_actions.allowed(ctx, customer.company_id, action, row):
        return False
    return recurring_actions.request(
        session, customer, row, action, today=today, now=now, source="their account page"
    )
