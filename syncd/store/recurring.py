"""The mirror of QBO recurring invoice templates and the trial reminder links.

``save_templates`` runs in the transaction of one full read of a company's templates: every row the
read named is upserted, every other row of the company is marked gone, so the mirror is the read
exactly. A customer's action is recorded on the row in the transaction that queues its effects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.recurring import Interval, RecurKind, RecurringTemplate, Schedule
from syncd.store.models import RecurringLink, RecurringRow


def schedule_of(row: RecurringRow) -> Schedule:
    return Schedule(
        interval=Interval(row.interval),
        every=row.every,
        start=row.start_date,
        next_date=row.next_date,
        previous_date=row.previous_date,
        end_date=row.end_date,
        max_occurrences=row.max_occurrences,
        day_of_month=row.day_of_month,
    )


def apply(row: RecurringRow, template: RecurringTemplate, today: date, now: datetime) -> None:
    """Copy a template as QBO has it now onto its row. A template the customer stopped that is
    active again was resumed by the bookkeeper: the customer's action is forgotten."""
    if template.active and row.active is False and row.action is not None:
        row.action = row.action_at = None
    s = template.schedule
    row.customer_id = template.customer_id
    row.name = template.name[:200]
    row.amount = template.amount
    row.currency = template.currency
    row.active = template.active
    row.automated = template.automated
    row.interval = s.interval.value
    row.every = s.every
    row.start_date = s.start
    row.next_date = s.next_date
    row.previous_date = s.previous_date
    row.end_date = s.end_date
    row.max_occurrences = s.max_occurrences
    row.day_of_month = s.day_of_month
    row.kind = template.kind(today).value
    row.sync_token = template.sync_token
    row.pulled_at = now
    row.gone_at = None


def upsert(
    session: Session, realm_id: str, template: RecurringTemplate, today: date, now: datetime
) -> RecurringRow:
    row = session.get(RecurringRow, (realm_id, template.template_id))
    if row is None:
        row = RecurringRow(company_id=realm_id, qbo_id=template.template_id)
        session.add(row)
    apply(row, template, today, now)
    return row


def save_templates(
    session: Session, realm_id: str, templates: Sequence[RecurringTemplate], today: date, now: datetime
) -> None:
    """Make the company's mirror exactly ``templates`` (one full read)."""
    seen = {t.template_id for t in templates}
    for template in templates:
        upsert(session, realm_id, template, today, now)
    for row in of_company(session, realm_id):
        if row.qbo_id not in seen and row.gone_at is None:
            row.gone_at = now
            row.active = False


def of_company(session: Session, realm_id: str) -> list[RecurringRow]:
    return list(session.scalars(select(RecurringRow).where(RecurringRow.company_id == realm_id)))


def live(session: Session, realm_id: str) -> list[RecurringRow]:
    """The company's active templates QBO still has, oldest id first."""
    rows = session.scalars(
        select(RecurringRow).where(
            RecurringRow.company_id == realm_id, RecurringRow.active.is_(True), RecurringRow.gone_at.is_(None)
        )
    )
    return sorted(rows, key=lambda r: (len(r.qbo_id), r.qbo_id))


def of_customer(session: Session, realm_id: str, customer_id: str) -> list[RecurringRow]:
    """One customer's templates QBO still has (active or not), oldest id first."""
    rows = session.scalars(
        select(RecurringRow).where(
            RecurringRow.company_id == realm_id,
            RecurringRow.customer_id == customer_id,
            RecurringRow.gone_at.is_(None),
        )
    )
    return sorted(rows, key=lambda r: (len(r.qbo_id), r.qbo_id))


def get(session: Session, realm_id: str, template_id: str) -> RecurringRow | None:
    return session.get(RecurringRow, (realm_id, template_id))


def is_trial(row: RecurringRow) -> bool:
    return row.kind == RecurKind.TRIAL.value


def open_link(
    session: Session,
    digest: str,
    realm_id: str,
    template_id: str,
    first: date,
    now: datetime,
    expires: datetime,
) -> None:
    """The trial link row for (template, first date), made once."""
    if session.get(RecurringLink, digest) is None:
        session.add(
            RecurringLink(
                digest=digest,
                company_id=realm_id,
                template_id=template_id,
                first_date=first,
                created_at=now,
                expires_at=expires,
            )
        )


def link(session: Session, digest: str) -> RecurringLink | None:
    return session.get(RecurringLink, digest)
