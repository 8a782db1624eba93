"""A card authorisation's emails to the customer: placed, captured (by which invoice, how much)
and released."""

from __future__ import annotations

from syncd.catalog.payloads_authorizations import AuthorizationEmail
from syncd.context import Context
from syncd.stages.autopay_mail import describe_method
from syncd.stages.card_requests import email_context
from syncd.stages.notify import send
from syncd.store import mirror
from syncd.store.effects import Claimed
from syncd.store.models import CardAuthorizationRow, SavedMethodRow
from syncd.worker import Done

EVENTS = ("placed", "captured", "released")


def send_authorization_email(ctx: Context, effect: Claimed) -> Done:
    payload = AuthorizationEmail.of(effect)
    if payload.event not in EVENTS:
        return Done(remote_id=f"skipped:unknown-event:{payload.event[:32]}")
    with ctx.db.transaction() as session:
        row = session.get(CardAuthorizationRow, payload.authorization_id)
        if row is None:
            return Done(remote_id="skipped:gone")
        customer = mirror.get_customer(session, row.company_id, row.customer_id)
        if customer is None or customer.deleted:
            return Done(remote_id="skipped:no-customer")
        invoice = mirror.get_invoice(session, row.company_id, row.invoice_id) if row.invoice_id else None
        context = email_context(ctx, session, row.company_id)
        context.update(
            customer_name=customer.display_name,
            event=payload.event,
            held=row.amount,
            amount=row.captured_amount if row.captured_amount is not None else row.amount,
            currency=row.currency,
            method=describe_method(session.get(SavedMethodRow, row.payment_method_id)),
            reason=row.note,
            release_on=row.release_at.date(),
            invoice_number=(invoice.doc_number or invoice.qbo_id) if invoice else (row.invoice_id or ""),
            account_url=f"{ctx.settings.public_url.rstrip('/')}/account",
        )
        to = customer.email
    return send(ctx, effect, "authorization", to, context)
