"""Autopay's emails: the notice before a charge (amount, day, method, "don't charge this one" and
"turn off autopay" links) and the outcome of a charge that did not go through as planned."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from syncd.catalog.payloads_autopay import AutopayNoticeEmail, AutopayOutcomeEmail
from syncd.context import Context
from syncd.domain.autopay import ChargeOutcome, ChargeStatus
from syncd.stages.autopay import PURPOSES, link_token, link_url
from syncd.stages.autopay_charges import update_card_ident
from syncd.stages.card_requests import email_context
from syncd.stages.card_requests import token as card_token
from syncd.stages.card_requests import url as card_url
from syncd.stages.notify import send
from syncd.store import mirror
from syncd.store.effects import Claimed
from syncd.store.models import AutopayCharge, SavedMethodRow
from syncd.worker import Done


def describe_method(method: SavedMethodRow | None) -> str:
    """ "Visa ending 4242" / "STRIPE TEST BANK account ending 6789"."""
    if method is None:
        return "your saved payment method"
    if method.kind == "us_bank_account":
        return f"{method.bank_name or 'Bank'} account ending {method.last4}"
    return f"{(method.brand or 'card').title()} ending {method.last4}"


def _context(ctx: Context, session: Session, row: AutopayCharge) -> dict[str, Any] | None:
    customer = mirror.get_customer(session, row.company_id, row.customer_id)
    invoice = mirror.get_invoice(session, row.company_id, row.invoice_id)
    if customer is None or customer.deleted or invoice is None:
        return None
    context = email_context(ctx, session, row.company_id)
    context.update(
        customer_name=customer.display_name,
        to=customer.email,
        invoice_number=invoice.doc_number or invoice.qbo_id,
        amount=row.amount if row.amount is not None else row.balance,
        currency=row.currency,
        charge_on=row.charge_on,
        method=describe_method(session.get(SavedMethodRow, row.payment_method_id)),
        decline_code=None,
    )
    return context


def _links(ctx: Context, row: AutopayCharge) -> dict[str, str]:
    return {f"{p}_link": link_url(ctx, link_token(ctx, row.company_id, p, row.key)) for p in PURPOSES}


def send_notice(ctx: Context, effect: Claimed) -> Done:
    key = AutopayNoticeEmail.of(effect).charge_key
    with ctx.db.transaction() as session:
        row = session.get(AutopayCharge, key)
        if row is None or row.status != ChargeStatus.SCHEDULED.value:
            return Done(remote_id="skipped:not-scheduled")
        context = _context(ctx, session, row)
        links = _links(ctx, row)
    if context is None:
        return Done(remote_id="skipped:no-customer")
    context.update(links)
    return send(ctx, effect, "autopay_notice", context.pop("to"), context)


def send_outcome(ctx: Context, effect: Claimed) -> Done:
    payload = AutopayOutcomeEmail.of(effect)
    outcome = ChargeOutcome(payload.outcome)
    with ctx.db.transaction() as session:
        row = session.get(AutopayCharge, payload.charge_key)
        if row is None:
            return Done(remote_id="skipped:gone")
        if outcome is ChargeOutcome.RETRY and row.status != ChargeStatus.SCHEDULED.value:
            return Done(remote_id="skipped:not-scheduled")
        context = _context(ctx, session, row)
        realm, customer_id, invoice_id = row.company_id, row.customer_id, row.invoice_id
        ident = update_card_ident(row)
        links = _links(ctx, row)
    if context is None:
        return Done(remote_id="skipped:no-customer")
    context.update(outcome=outcome.value, pay_link=ctx.links.url(realm, invoice_id))
    if outcome is ChargeOutcome.RETRY:
        context.update(links)
    if outcome is ChargeOutcome.HARD:
        context["card_link"] = card_url(ctx, card_token(ctx, realm, customer_id, ident))
    return send(ctx, effect, "autopay_outcome", context.pop("to"), context)
