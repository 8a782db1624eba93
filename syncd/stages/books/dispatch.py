"""Stripe events that move money but are not a payment's status, turned into books effects.

Only effects are queued here (inside the inbox transaction, under deterministic keys); the worker
reads Stripe and writes QuickBooks. A duplicated or reordered event queues nothing new.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads import DisputePlan, PayoutFailed, QboPayout, QboRefund, QboRefundFailed
from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.stages.books.payers import fallback_company
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects, payments

log = structlog.get_logger("syncd.books")

_K = StripeEventKind
REFUND_KINDS = frozenset({_K.REFUND_CREATED, _K.REFUND_UPDATED, _K.CHARGE_REFUND_UPDATED})
DISPUTE_KINDS = frozenset(
    {
        _K.DISPUTE_CREATED,
        _K.DISPUTE_UPDATED,
        _K.DISPUTE_FUNDS_WITHDRAWN,
        _K.DISPUTE_FUNDS_REINSTATED,
        _K.DISPUTE_CLOSED,
    }
)
PAYOUT_KINDS = frozenset({_K.PAYOUT_PAID, _K.PAYOUT_FAILED})
# Every kind ``apply_event`` acts on.
KINDS = REFUND_KINDS | DISPUTE_KINDS | PAYOUT_KINDS | {_K.REFUND_FAILED}


def _payment_company(ctx: Context, session: Session, event: StripeEvent) -> str | None:
    """Money movements on a payment belong to the company that took it (by payment intent id).
    The payment's own events may not have been applied yet: the handler finds it then."""
    if event.payment_intent_id is None:
        return None
    row = payments.by_intent(session, event.payment_intent_id)
    if row is not None:
        return row.company_id
    return event.metadata.get("company") or fallback_company(ctx)


def _payer(session: Session, event: StripeEvent) -> str | None:
    """A refund changes its payment's customer's invoices or credit: it waits its turn behind the
    other money effects of that customer (unknown yet when the refund overtook the payment)."""
    row = payments.by_intent(session, event.payment_intent_id) if event.payment_intent_id else None
    return row.customer_id if row is not None else None


def _account_company(ctx: Context, event: StripeEvent) -> str | None:
    """Payouts are per Stripe account: the company of the account the event happened on (on a
    shared account the payout handler finds the company from what it settled); None for an
    account no company is paid into."""
    account = ctx.stripe_account_named(event.account)
    return account.companies[0] if account is not None and account.companies else None


def apply_event(ctx: Context, session: Session, event: StripeEvent) -> None:
    """Refunds, disputes and payouts (DESIGN §4)."""
    now = ctx.clock()
    # ``kind`` is the type as Stripe spells it (part of the dispute keys); dispatch is on the Enum.
    kind, oid = event.type, event.object_id
    if event.kind in REFUND_KINDS or event.kind in DISPUTE_KINDS:
        realm = _payment_company(ctx, session, event)
        if realm is None:
            log.info("stripe.event_not_ours", event_id=event.id, type=kind, object=oid)
            return
        if event.kind in REFUND_KINDS:
            refund = QboRefund(oid, customer_id=_payer(session, event))
            effects.enqueue(session, refund, company_id=realm, now=now)
        else:
            effects.enqueue(session, DisputePlan(oid, event_type=kind), company_id=realm, now=now)
    elif event.kind is StripeEventKind.REFUND_FAILED:
        realm = _payment_company(ctx, session, event)
        if realm is not None:
            failure = QboRefundFailed(oid, customer_id=_payer(session, event))
            effects.enqueue(session, failure, company_id=realm, now=now)
            queue_staff_alert(
                ctx,
                session,
                realm,
                f"refund-failed:{oid}",
                "Refund failed",
                f"The customer's bank sent refund {oid} back, so the money is in the Stripe balance "
                "again and the customer was not refunded. syncd records the money's return in "
                "QuickBooks; refund the customer another way if they are still owed it.",
                now,
            )
    elif event.kind in PAYOUT_KINDS:
        realm = _account_company(ctx, event)
        if realm is None:
            return
        paid = event.kind is StripeEventKind.PAYOUT_PAID
        payout = QboPayout(oid) if paid else PayoutFailed(oid)
        effects.enqueue(session, payout, company_id=realm, now=now)
    else:
        log.debug("stripe.event_ignored", event_id=event.id, type=kind)
