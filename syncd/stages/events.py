"""Stripe events into payment state: from the inbox (webhooks), the backfill, or a redirect.

Every path ends in ``payment_status.observe_in``, which moves a payment forward only and enqueues
the follow-up effects under deterministic keys — so duplicated, reordered or racing observations
change nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.config import DEFAULT_ACCOUNT, StripeAccount
from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.domain.payments import PaymentStatus
from syncd.errors import SyncdError
from syncd.intake import inbox_account
from syncd.stages import books, saved_methods
from syncd.stages.payment_status import find_payment, observe_in
from syncd.store import cursors, inbox
from syncd.store.turnstile import urgent

log = structlog.get_logger("syncd.events")

# The backfill's cursor belongs to the Stripe account, not to one company: kept under its key.
STRIPE_ACCOUNT = DEFAULT_ACCOUNT
BACKFILL_CURSOR = "stripe.last_event"
BACKFILL_WINDOW = timedelta(days=3)
# Stored events applied in one transaction (a savepoint each) by an ingest pass.
APPLY_TOGETHER = 25

_OBSERVED = {
    StripeEventKind.CHECKOUT_ASYNC_SUCCEEDED: PaymentStatus.SUCCEEDED,
    StripeEventKind.CHECKOUT_ASYNC_FAILED: PaymentStatus.FAILED,
    StripeEventKind.CHECKOUT_EXPIRED: PaymentStatus.EXPIRED,
    StripeEventKind.PAYMENT_SUCCEEDED: PaymentStatus.SUCCEEDED,
    StripeEventKind.PAYMENT_PROCESSING: PaymentStatus.PROCESSING,
}


def ingest(ctx: Context) -> int:
    """Process stored webhook events in arrival order; returns how many were processed. Its
    transactions go before bulk work's: a payment waits on them (``turnstile.urgent``)."""
    with urgent():
        return _ingest(ctx)


def _ingest(ctx: Context) -> int:
    # Of a payment's five or so events two move it. The pass's events are applied together, a
    # savepoint each (one that fails is rolled back alone and marked failed afterwards), in
    # transactions of up to APPLY_TOGETHER: at 20 payments a second, one transaction per event
    # spent most of ingest's time waiting for SQLite's turn while payments queued behind it.
    ignored: list[int] = []
    acting: list[tuple[inbox.InboxItem, StripeEvent]] = []
    failed: list[tuple[inbox.InboxItem, str]] = []
    for item in inbox.pending(ctx.db, source="stripe"):
        try:
            parsed = ctx.stripe_for(item.company_id).parse_event(item.payload)
            event = inbox_account(ctx, parsed, item.company_id)
        except SyncdError as exc:
            failed.append((item, str(exc)))
            log.warning("stripe.event_failed", event_id=item.event_id, error=str(exc))
            continue
        except Exception as exc:  # one bad event never stops the others
            failed.append((item, f"{type(exc).__name__}: {exc}"))
            log.exception("stripe.event_crashed", event_id=item.event_id)
            continue
        if acts_on(event):
            acting.append((item, event))
        else:
            ignored.append(item.id)
            log.info("stripe.event_ignored", event_id=event.id, type=event.type)
    done = 0
    for start in range(0, max(len(acting), 1 if ignored else 0), APPLY_TOGETHER):
        with ctx.db.transaction() as session:
            for item, event in acting[start : start + APPLY_TOGETHER]:
                try:
                    with session.begin_nested():
                        apply_event(ctx, session, event)
                        inbox.mark_processed(session, item.id, now=ctx.clock())
                    done += 1
                except SyncdError as exc:
                    failed.append((item, str(exc)))
                    log.warning("stripe.event_failed", event_id=item.event_id, error=str(exc))
                except Exception as exc:  # one bad event never stops the others
                    failed.append((item, f"{type(exc).__name__}: {exc}"))
                    log.exception("stripe.event_crashed", event_id=item.event_id)
            if start == 0:
                for item_id in ignored:
                    inbox.mark_processed(session, item_id, now=ctx.clock())
        if done:
            # A paid invoice's QBO Payment is due now: the money lane need not wait for the rest.
            ctx.wake("money", None)
    for item, error in failed:
        inbox.mark_failed(ctx.db, item.id, error=error)
    if done:
        ctx.wake("worker", None)  # the effects these events queued are due now
    return done + len(ignored)


def acts_on(event: StripeEvent) -> bool:
    """Whether ``apply_event`` does anything with ``event`` (else it is only kept for dedupe)."""
    kind = event.kind
    return (
        saved_methods.handles(event)
        or kind in (StripeEventKind.CHECKOUT_COMPLETED, StripeEventKind.PAYMENT_FAILED)
        or kind in _OBSERVED
        or kind in books.KINDS
    )


def backfill(ctx: Context) -> int:
    """Recover events a webhook never delivered: list those after the last one seen, per Stripe
    account (a company's own or connected one lists its own events)."""
    recovered = sum(_backfill(ctx, account) for account in ctx.stripe_accounts() if account.companies)
    if recovered:
        ctx.wake("worker", None)
    return recovered


def _backfill(ctx: Context, account: StripeAccount) -> int:
    # The cursor is kept under the account's key ("*" for the [stripe] account, as before).
    with ctx.db.transaction() as session:
        last = cursors.get(session, account.key, BACKFILL_CURSOR)
    found = ctx.stripe_of(account).events_after(last, since=ctx.clock() - BACKFILL_WINDOW)
    recovered = 0
    for event in found:
        if event.account is None and account.key != STRIPE_ACCOUNT:
            event = dataclasses.replace(event, account=account.key)
        with ctx.db.transaction() as session:
            now = ctx.clock()
            if inbox.store(
                session, source="stripe", event_id=event.id, event_type=event.type, payload=b"", now=now
            ):
                apply_event(ctx, session, event)
                recovered += 1
                # Kept for dedupe only: the event was applied from the listing itself.
                inbox.mark_event_processed(session, "stripe", event.id, now=now)
            cursors.put(session, account.key, BACKFILL_CURSOR, event.id, now=now)
    return recovered


def apply_event(ctx: Context, session: Session, event: StripeEvent) -> None:
    """Hand the event to the stage that owns its kind (``StripeEventKind``); ignore the rest."""
    kind = event.kind
    if saved_methods.handles(event):
        saved_methods.apply_event(ctx, session, event)
    elif kind is StripeEventKind.CHECKOUT_COMPLETED:
        status = PaymentStatus.SUCCEEDED if event.paid else PaymentStatus.PROCESSING
        observe_in(
            ctx,
            session,
            event.checkout_session_id or event.object_id,
            event.metadata.get("payment_key"),
            status,
            event.payment_intent_id,
        )
    elif kind in _OBSERVED:
        saved_methods.payment_saved(session, event)
        observe_in(
            ctx,
            session,
            event.checkout_session_id,
            event.metadata.get("payment_key"),
            _OBSERVED[kind],
            event.payment_intent_id,
        )
    elif kind is StripeEventKind.PAYMENT_FAILED:
        # A declined card leaves the Checkout Session open for another try: only a payment that
        # was processing (ACH) has failed for good.
        row = find_payment(session, None, event.metadata.get("payment_key"), event.payment_intent_id)
        if row is not None and row.status == PaymentStatus.PROCESSING.value:
            observe_in(ctx, session, None, row.key, PaymentStatus.FAILED, event.payment_intent_id)
    else:
        if kind in books.KINDS:
            books.apply_event(ctx, session, event)
        else:
            # Kept in the inbox (or the backfill's dedupe row) and acted on by nothing: a type
            # subscribed by hand, or one the event listing brings.
            log.info("stripe.event_ignored", event_id=event.id, type=event.type)
