"""A customer stopping a recurring service (pause or cancel, from the account page or a trial's
reminder): recorded on the template's row with three effects in one transaction — the QBO update
(``qbo:recurring:<realm>:<id>:<action>:<SyncToken>``, its requestid), a staff email and the customer's
confirmation. The template in QuickBooks is what stops the invoices; the bookkeeper sees it there.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from syncd.catalog.payloads import RecurringUpdate
from syncd.catalog.payloads_email import RecurringEmail, StaffAlert
from syncd.context import Context
from syncd.domain.recurring import RecurAction, RecurringChange
from syncd.stages.notify import local_now
from syncd.store import effects
from syncd.store import recurring as store
from syncd.store.effects import Claimed
from syncd.store.models import CustomerRow, RecurringRow
from syncd.worker import Done

_DONE = {RecurAction.PAUSE: "paused", RecurAction.CANCEL: "cancelled"}


def allowed(ctx: Context, realm_id: str, action: RecurAction, row: RecurringRow) -> bool:
    """Whether the company lets customers take ``action`` on this template now. A trial can
    always be cancelled: its reminder promises it."""
    settings = ctx.settings.company(realm_id).recurring
    if not row.active or row.gone_at is not None or row.action is not None:
        return False
    if action is RecurAction.CANCEL:
        return settings.allow_cancel or store.is_trial(row)
    return settings.allow_pause


def request(
    session: Session,
    customer: CustomerRow,
    row: RecurringRow,
    action: RecurAction,
    *,
    today: date,
    now: datetime,
    source: str,
) -> bool:
    """Record ``action`` and queue its effects; False when the row already has an action."""
    if row.action is not None:
        return False
    realm = customer.company_id
    row.action, row.action_at = action.value, now
    end = today.isoformat() if action is RecurAction.CANCEL else None
    version = row.sync_token
    update = RecurringUpdate(row.qbo_id, action.value, end, version=version)
    effects.enqueue(session, update, company_id=realm, now=now)
    confirmation = RecurringEmail(row.qbo_id, action.value, f"{action.value}-{version}")
    effects.enqueue(session, confirmation, company_id=realm, now=now)
    done = _DONE[action]
    what = "made inactive and ended today" if action is RecurAction.CANCEL else "made inactive"
    alert = StaffAlert(
        title=f"A customer {done} a recurring service: {customer.display_name}",
        body=(
            f"{customer.display_name} (QuickBooks customer {customer.qbo_id}) {done} “{row.name}” "
            f"(recurring template {row.qbo_id}) from {source}. syncd has the template {what} in "
            "QuickBooks, so it makes no more invoices; the customer was sent a confirmation."
        ),
        ident=f"recurring-{action.value}:{realm}:{row.qbo_id}:{version}",
    )
    effects.enqueue(session, alert, company_id=realm, now=now)
    return True


def update_template(ctx: Context, effect: Claimed) -> Done:
    """Perform the QBO update under the effect's key; the row takes the template as QBO answers."""
    update = RecurringUpdate.of(effect)
    end = date.fromisoformat(update.end_date) if update.end_date else None
    change = RecurringChange(update.template_id, active=False, end_date=end)
    template = ctx.qbo(effect.company_id).update_recurring(change, request_id=effect.key)
    today = local_now(ctx, effect.company_id).date()
    now = ctx.clock()

    def apply(session: Session) -> None:
        row = store.get(session, effect.company_id, template.template_id)
        if row is not None:
            store.apply(row, template, today, now)

    return Done(remote_id=f"RecurringTransaction:{template.template_id}:{template.sync_token}", apply=apply)
