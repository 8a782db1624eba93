"""Card-expiry notices: a card on file that will expire before it is next used gets one email
about 30 days before, with a link to put a new card on file.

syncd has no payment schedule yet (automatic payments come later), so a card on file counts as
expected to be used for as long as its QBO customer is active. The effect key names the method
and its expiry, so each card is told once — and a renewed card with a new expiry once more.
"""

from __future__ import annotations

from datetime import date, timedelta

from syncd.catalog.payloads_email import CardExpiryEmail
from syncd.context import Context
from syncd.domain.methods import card_expires_on
from syncd.stages.card_requests import email_context, open_request, request_key, token, url
from syncd.stages.notify import local_now, send
from syncd.store import effects, mirror
from syncd.store import saved_methods as store
from syncd.store.effects import Claimed
from syncd.store.models import SavedMethodRow
from syncd.worker import Done

NOTICE_BEFORE = timedelta(days=30)


def expires_on(row: SavedMethodRow) -> date | None:
    return card_expires_on(row.exp_month, row.exp_year)


def expiry_notices(ctx: Context, realm_id: str) -> int:
    """Queue the notices now due for the company; returns how many were new."""
    today = local_now(ctx, realm_id).date()
    now = ctx.clock()
    queued = 0
    with ctx.db.transaction() as session:
        for row in store.cards(session, realm_id):
            ends = expires_on(row)
            if ends is None or not today <= ends <= today + NOTICE_BEFORE:
                continue
            customer = mirror.get_customer(session, realm_id, row.qbo_customer_id)
            if customer is None or customer.deleted or not customer.active or not customer.email:
                continue
            ident = f"expiry-{row.payment_method_id}-{row.exp_year:04d}-{row.exp_month:02d}"
            reason = f"The card ending {row.last4} expires at the end of {ends:%m/%Y}."
            open_request(ctx, session, customer, ident, reason, now)
            notice = CardExpiryEmail(
                payment_method_id=row.payment_method_id,
                ident=ident,
                expiry=f"{row.exp_year:04d}-{row.exp_month:02d}",
            )
            queued += effects.enqueue(session, notice, company_id=realm_id, now=now)
    if queued:
        ctx.wake("worker", None)
    return queued


def send_expiry_notice(ctx: Context, effect: Claimed) -> Done:
    notice = CardExpiryEmail.of(effect)
    method_id, ident = notice.payment_method_id, notice.ident
    with ctx.db.transaction() as session:
        row = session.get(SavedMethodRow, method_id)
        if row is None or row.detached_at is not None:
            return Done(remote_id="skipped:removed")
        customer = mirror.get_customer(session, row.company_id, row.qbo_customer_id)
        request = store.request_by_key(session, request_key(row.company_id, row.qbo_customer_id, ident))
        if customer is None or request is None:
            return Done(remote_id="skipped:no-customer")
        context = email_context(ctx, session, row.company_id)
        context.update(
            customer_name=customer.display_name,
            brand=(row.brand or "card").title(),
            last4=row.last4,
            expires_on=expires_on(row),
        )
        to = customer.email
        realm, customer_id = row.company_id, row.qbo_customer_id
    context["link"] = url(ctx, token(ctx, realm, customer_id, ident))
    return send(ctx, effect, "card_expiry", to, context)
