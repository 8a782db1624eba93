"""Recurring services, once per company cycle: mirror QBO's recurring invoice templates (at most once
an hour: a read is metered), then queue what is due — a trial's reminder before its first invoice,
a contract-end notice before a template's end (customer and staff).

Each notice is an effect keyed by template and date (``email:recurring:<realm>:<id>:trial:<first
date>``, ``…:contract_end:<last date>``), so it goes once per trial and per end, however often the
cycle runs; a template moved to a new end date is told again, about that end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads_email import RecurringEmail, StaffAlert
from syncd.context import Context
from syncd.errors import PermanentError
from syncd.stages.notify import local_now
from syncd.stages.recurring_links import open_trial_link
from syncd.store import cursors, effects, mirror
from syncd.store import recurring as store
from syncd.store.models import RecurringRow

log = structlog.get_logger("syncd.recurring")

CURSOR = "qbo.recurring"
READ_EVERY = timedelta(hours=1)


def recurring(ctx: Context, realm_id: str) -> int:
    """Mirror the templates when due, then queue the notices now due; how many were new."""
    try:
        refresh(ctx, realm_id)
    except PermanentError as exc:
        # A company whose QuickBooks has no recurring transactions (Simple Start) refuses the
        # read: its invoices go on; the read is tried again in an hour.
        log.warning("recurring.unreadable", company=realm_id, error=str(exc))
        with ctx.db.transaction() as session:
            cursors.put(session, realm_id, CURSOR, ctx.clock().isoformat(), now=ctx.clock())
    return plan(ctx, realm_id)


def refresh(ctx: Context, realm_id: str, *, force: bool = False) -> bool:
    """Read every template of the company into the mirror, unless one read was made within the
    hour (``force``: read anyway). Whether a read was made."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        last = cursors.get(session, realm_id, CURSOR)
    if not force and last is not None and now - datetime.fromisoformat(last) < READ_EVERY:
        return False
    templates = ctx.qbo(realm_id).recurring_templates()
    today = local_now(ctx, realm_id).date()
    with ctx.db.transaction() as session:
        store.save_templates(session, realm_id, templates, today, now)
        cursors.put(session, realm_id, CURSOR, now.isoformat(), now=now)
    return True


def plan(ctx: Context, realm_id: str) -> int:
    settings = ctx.settings.company(realm_id).recurring
    today = local_now(ctx, realm_id).date()
    now = ctx.clock()
    queued = 0
    with ctx.db.transaction() as session:
        for row in store.live(session, realm_id):
            if row.action is not None or not row.automated:
                continue  # the customer stopped it, or QBO makes nothing from it on its own
            customer = mirror.get_customer(session, realm_id, row.customer_id)
            if customer is None or customer.deleted:
                continue
            if _trial_due(row, today, settings.trial_reminder_days):
                assert row.next_date is not None
                open_trial_link(ctx, session, realm_id, row.qbo_id, row.next_date, now)
                notice = RecurringEmail(row.qbo_id, "trial", row.next_date.isoformat())
                queued += effects.enqueue(session, notice, company_id=realm_id, now=now)
            last = store.schedule_of(row).ends_on()
            if _end_due(last, today, settings.contract_end_notice_days):
                assert last is not None
                queued += _queue_end(session, realm_id, row, customer.display_name, last, now)
    if queued:
        ctx.wake("worker", None)
    return queued


def _trial_due(row: RecurringRow, today: date, days: int) -> bool:
    first = row.next_date
    return store.is_trial(row) and days > 0 and first is not None and today < first <= today + timedelta(days)


def _end_due(last: date | None, today: date, days: int) -> bool:
    return last is not None and days > 0 and today <= last <= today + timedelta(days)


def _queue_end(
    session: Session, realm_id: str, row: RecurringRow, customer: str, last: date, now: datetime
) -> int:
    notice = RecurringEmail(row.qbo_id, "contract_end", last.isoformat())
    queued = effects.enqueue(session, notice, company_id=realm_id, now=now)
    alert = StaffAlert(
        title=f"A recurring service ends on {last.isoformat()}: {customer}",
        body=(
            f"The QuickBooks recurring template “{row.name}” (id {row.qbo_id}) of {customer} ends on "
            f"{last.isoformat()}. syncd told the customer today. To continue it, "
            "extend the template's end date in QuickBooks."
        ),
        ident=f"recurring-end:{realm_id}:{row.qbo_id}:{last.isoformat()}",
    )
    return queued + effects.enqueue(session, alert, company_id=realm_id, now=now)
