"""One payable Checkout Session per invoice: a new attempt supersedes the others, and its URL is
handed out only once every other session for its invoices is known expired at Stripe.

Order (a crash may fall between any two steps): (1) in one transaction, the other attempts'
expiries are queued as effects (``stripe:expire:<session>``) and ones whose session was never made
are marked expired; (2) those effects are performed inline, or awaited if the worker holds them;
(3) only then is the new session's URL returned. A crash after (1) leaves the effects for the
worker and the next Pay press repeats (2) before (3); nothing can hand out a URL skipping (2).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import ExpireCheckout
from syncd.context import Context
from syncd.domain import CheckoutStatus
from syncd.domain.payments import PaymentStatus
from syncd.errors import TransientError
from syncd.stages import hooks, payment_status
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects, payments
from syncd.store.effects import Claimed, EffectStatus
from syncd.store.models import PaymentRow
from syncd.worker import Done, perform_now

WAIT_SECONDS = 10.0
_LIVE = (PaymentStatus.CREATING.value, PaymentStatus.OPEN.value)


def expiry_key(session_id: str) -> str:
    return f"stripe:expire:{session_id}"


def expiring(session: Session, row: PaymentRow) -> bool:
    """Whether ``row``'s session is on its way out (an expiry is queued or done)."""
    if not row.checkout_session_id:
        return False
    return effects.get(session, expiry_key(row.checkout_session_id)) is not None


def rivals(session: Session, row: PaymentRow) -> list[PaymentRow]:
    """Other live attempts sharing an invoice with ``row`` (a session for several invoices counts
    for each), locked in key order so that a session being recorded right now is seen with its id
    and two Pay presses never wait on each other's locks crosswise."""
    live = session.execute(
        select(PaymentRow.key, PaymentRow.invoice_ids).where(
            PaymentRow.company_id == row.company_id,
            PaymentRow.status.in_(_LIVE),
            PaymentRow.key != row.key,
        )
    ).all()
    mine = set(row.invoice_ids)
    keys = sorted(key for key, invoice_ids in live if mine.intersection(invoice_ids))
    if not keys:
        return []
    locked = session.scalars(
        select(PaymentRow).where(PaymentRow.key.in_(keys)).order_by(PaymentRow.key).with_for_update()
    )
    return [r for r in locked if r.status in _LIVE]


def supersede(session: Session, row: PaymentRow, now: datetime) -> list[str]:
    """Queue the end of every rival of ``row``; returns the expiry effect keys to wait for."""
    keys = []
    for other in rivals(session, row):
        if other.checkout_session_id:
            hooks.queue_checkout_expiry(session, other, now)
            keys.append(expiry_key(other.checkout_session_id))
        else:
            # Never made at Stripe yet: its own effect stands down, or expires what it made.
            payments.advance(other, PaymentStatus.EXPIRED, now=now)
    return keys


def settle(ctx: Context, keys: list[str], *, owner: str) -> None:
    """Perform (or await) the expiries ``keys``; TransientError when one is not done in time."""
    deadline = time.monotonic() + WAIT_SECONDS
    for key in keys:
        perform_now(ctx, key, owner=owner)
        while True:
            with ctx.db.transaction() as session:
                effect = effects.get(session, key)
                status = effect.status if effect is not None else EffectStatus.DONE.value
            if status == EffectStatus.DONE.value:
                break
            if status == EffectStatus.FAILED.value or time.monotonic() >= deadline:
                raise TransientError("We could not start the payment just now. Please try again in a minute.")
            time.sleep(0.1)


def expire_checkout(ctx: Context, effect: Claimed) -> Done:
    session_id = ExpireCheckout.of(effect).session_id
    checkout = ctx.stripe.expire_checkout_session(session_id)
    observed = {
        CheckoutStatus.EXPIRED: PaymentStatus.EXPIRED,
        CheckoutStatus.COMPLETE: PaymentStatus.PROCESSING
        if checkout.payment_status != "paid"
        else PaymentStatus.SUCCEEDED,
    }.get(checkout.status)

    def apply(session: Session) -> None:
        if observed is not None:
            payment_status.observe_in(ctx, session, session_id, None, observed, checkout.payment_intent_id)
        if checkout.status is CheckoutStatus.COMPLETE:
            _paid_too_late(ctx, session, effect.company_id, session_id)

    return Done(remote_id=checkout.id, apply=apply)


def _paid_too_late(ctx: Context, session: Session, realm_id: str, session_id: str) -> None:
    """The customer paid a session syncd was closing: the books path books it (as credit where the
    invoice is paid already); staff hear of it once, in case the customer paid twice."""
    row = payments.by_session(session, session_id)
    if row is None:
        return
    queue_staff_alert(
        ctx,
        session,
        realm_id,
        f"late-checkout:{session_id}",
        "A payment page syncd was closing was paid",
        f"The customer paid {row.amount} {row.currency} through Checkout Session {session_id} "
        f"(invoice id(s) {', '.join(row.invoice_ids)}) while syncd was closing it (a newer page "
        "replaced it, or the invoice changed in QuickBooks). The payment is booked to QuickBooks; "
        "what exceeds the open balance stays as customer credit there. Check whether the "
        "customer paid twice and refund or apply the credit.",
        ctx.clock(),
    )
