"""The customer's emails about a recurring service: a trial's reminder (with its continue / cancel
links), a contract's coming end, and the confirmation of a pause or cancel. Each is sent under its
effect's key as Message-ID; a template QuickBooks no longer has is not written about."""

from __future__ import annotations

from datetime import date

from syncd.catalog.payloads_email import RecurringEmail
from syncd.context import Context
from syncd.ports.recurring import TrialChoice
from syncd.stages.card_requests import email_context
from syncd.stages.notify import send
from syncd.stages.recurring_links import token, url
from syncd.store import mirror
from syncd.store import recurring as store
from syncd.store.effects import Claimed
from syncd.worker import Done

STOPPING = ("pause", "cancel")


def send_recurring_email(ctx: Context, effect: Claimed) -> Done:
    notice = RecurringEmail.of(effect)
    realm = effect.company_id
    with ctx.db.transaction() as session:
        row = store.get(session, realm, notice.template_id)
        customer = mirror.get_customer(session, realm, row.customer_id) if row is not None else None
        if row is None or customer is None or customer.deleted:
            return Done(remote_id="skipped:no-template")
        if notice.topic not in STOPPING and (row.gone_at is not None or row.action is not None):
            # Stopped since the notice was planned: a reminder about it would only confuse.
            return Done(remote_id="skipped:stopped")
        context = email_context(ctx, session, realm)
        context.update(
            topic=notice.topic,
            customer_name=customer.display_name,
            service_name=row.name or "your service",
            amount=row.amount,
            currency=row.currency,
            first_date=None,
            ends_on=None,
            account_url=f"{ctx.settings.public_url.rstrip('/')}/account",
        )
        to = customer.email
    if notice.topic == "trial":
        first = date.fromisoformat(notice.ident)
        link = token(ctx, realm, notice.template_id, first)
        context.update(
            first_date=first,
            continue_link=url(ctx, link, TrialChoice.CONTINUE),
            cancel_link=url(ctx, link, TrialChoice.CANCEL),
        )
    elif notice.topic == "contract_end":
        context["ends_on"] = date.fromisoformat(notice.ident)
    return send(ctx, effect, "recurring", to, context)
