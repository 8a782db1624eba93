"""The ``stripe.autopay_charge`` effect: re-read the invoice from QBO, charge what is still owed
(never more than the notice said, plus the tolerance) through the charge primitive, and act on
the answer: paid or processing (the books follow), a soft decline (retried on the company's
schedule, the customer told each time), a hard decline (autopay stops for that method and the
customer gets an update-card link), or authentication required (a link to pay on-session).

The key is per attempt; a replay after a crash sends the same amount under the same key, so
Stripe (or, past its 24 h key window, the connector's metadata lookup) answers with the first
outcome instead of charging again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads_autopay import AutopayCharge as ChargeEffect
from syncd.catalog.payloads_autopay import AutopayOutcomeEmail
from syncd.context import Context
from syncd.domain import MethodKind
from syncd.domain.autopay import ChargeOutcome, ChargeStatus, Mandate, SavedCharge
from syncd.domain.stripe import PaymentIntent, PaymentIntentStatus
from syncd.errors import DeclinedError, DeclineKind
from syncd.stages import autocharge
from syncd.stages.autopay import add_links, over_cap
from syncd.stages.autopay_reread import BATCH, rereads_for
from syncd.stages.card_requests import open_request
from syncd.store import autopay as store
from syncd.store import effects, mirror
from syncd.store.effects import Claimed
from syncd.store.models import AutopayCharge, AutopayEnrollment, InvoiceRow, MethodConsent, SavedMethodRow
from syncd.worker import Done


def update_card_ident(charge: AutopayCharge) -> str:
    """The card request a hard decline opens (one per declined attempt)."""
    return f"autopay-{charge.invoice_id}-{charge.attempt}"


def charge(ctx: Context, effect: Claimed) -> Done:
    key = ChargeEffect.of(effect).charge_key
    realm = effect.company_id
    tolerance = ctx.settings.company(realm).autopay.change_tolerance
    with ctx.db.transaction() as session:
        row = session.get(AutopayCharge, key)
        if row is None or row.status != ChargeStatus.CHARGING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        enrollment = store.active(session, realm, row.customer_id)
        method = session.get(SavedMethodRow, row.payment_method_id)
        usable = (
            enrollment is not None
            and enrollment.payment_method_id == row.payment_method_id
            and method is not None
            and method.detached_at is None
        )
        invoice_id, noticed, sent = row.invoice_id, row.balance, row.amount
        customer_id, currency, method_id = row.customer_id, row.currency, row.payment_method_id
        stripe_customer = method.stripe_customer_id if method else ""
        method_kind = method.kind if method else "card"
        capped = enrollment is not None and over_cap(enrollment, noticed + tolerance)
        mandate = _mandate(session, enrollment) if method_kind == MethodKind.US_BANK_ACCOUNT.value else None
        mirrored = session.get(InvoiceRow, (realm, invoice_id))
        mirrored_at = mirrored.mirrored_at if mirrored is not None else None
    if not usable and sent is None:
        # Once an amount was sent, Stripe may have taken it: a replay must learn the outcome.
        return _finish(ctx, key, ChargeStatus.CANCELLED, "skipped:autopay-off")
    amount = sent
    if amount is None:
        # Re-read just before charging: paid offline, voided or lowered is never over-charged.
        # (Read with the company's next charges: one QBO query serves up to BATCH of them.)
        fresh = rereads_for(ctx).invoice(
            ctx, realm, invoice_id, others=lambda: _next_rereads(ctx, realm), mirrored_at=mirrored_at
        )
        if fresh is None or not fresh.status.payable or fresh.balance <= 0:
            return _finish(ctx, key, ChargeStatus.CANCELLED, "skipped:not-payable")
        amount = min(fresh.balance, noticed + tolerance)
        if capped and enrollment is not None and over_cap(enrollment, amount):
            return _finish(ctx, key, ChargeStatus.OVER_CAP, "skipped:over-cap", ChargeOutcome.OVER_CAP)
    request = SavedCharge(
        company=realm,
        customer_id=customer_id,
        invoice_ids=(invoice_id,),
        stripe_customer_id=stripe_customer,
        payment_method_id=method_id,
        amount=amount,
        currency=currency,
        payment_key=key,
        idempotency_key=effect.key,
        mandate=mandate,
        first_send=sent is None,
    )

    def record(session: Session) -> None:
        held = session.get(AutopayCharge, key)
        assert held is not None
        held.amount = amount

    return autocharge.attempt(
        ctx,
        request,
        method_kind=method_kind,
        record=record,
        declined=lambda s, exc, today: _declined(ctx, s, request, exc, today),
        charged=lambda s, intent: _charged(ctx, s, request, intent),
    )


def _next_rereads(ctx: Context, realm_id: str) -> list[str]:
    """The invoices of the company's charges being started and not sent yet, in the order their
    effects were queued (the order the worker claims them)."""
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(AutopayCharge.invoice_id)
                .where(
                    AutopayCharge.company_id == realm_id,
                    AutopayCharge.status == ChargeStatus.CHARGING.value,
                    AutopayCharge.amount.is_(None),
                )
                .order_by(AutopayCharge.charge_on, AutopayCharge.key)
                .limit(BATCH)
            )
        )


def _mandate(session: Session, enrollment: AutopayEnrollment | None) -> Mandate | None:
    """The bank debit's mandate: the customer's autopay authorisation, as they gave it."""
    consent = session.get(MethodConsent, enrollment.consent_reference) if enrollment else None
    if consent is None:
        return None
    return Mandate(accepted_at=consent.consented_at, ip=consent.ip, user_agent=consent.user_agent)


mandate_of = _mandate  # what installment charges send with a bank debit too


def _finish(
    ctx: Context, key: str, status: ChargeStatus, remote: str, outcome: ChargeOutcome | None = None
) -> Done:
    def apply(session: Session) -> None:
        row = session.get(AutopayCharge, key)
        if row is None:
            return
        store.move(row, status, now=ctx.clock())
        if outcome is not None:
            _tell(session, row, outcome, ctx.clock())

    return Done(remote_id=remote, apply=apply)


def _charged(ctx: Context, session: Session, request: SavedCharge, intent: PaymentIntent) -> None:
    row = session.get(AutopayCharge, request.payment_key)
    assert row is not None
    row.payment_intent_id = intent.id
    if intent.status is PaymentIntentStatus.PROCESSING:
        store.move(row, ChargeStatus.PROCESSING, now=ctx.clock())
    elif intent.status is PaymentIntentStatus.SUCCEEDED:
        store.move(row, ChargeStatus.SUCCEEDED, now=ctx.clock())
    else:
        store.move(row, ChargeStatus.DECLINED, now=ctx.clock())
    autocharge.settled(ctx, session, request, intent)


def _declined(ctx: Context, session: Session, request: SavedCharge, exc: DeclinedError, today: date) -> None:
    now = ctx.clock()
    row = session.get(AutopayCharge, request.payment_key)
    assert row is not None
    row.decline_code = (exc.code or "declined")[:64]
    autocharge.failed(session, request, f"{exc.code}: {exc.customer_message}", now=now)
    if exc.kind is DeclineKind.AUTHENTICATION:
        store.move(row, ChargeStatus.NEEDS_ACTION, now=now)
        _tell(session, row, ChargeOutcome.ACTION, now)
        return
    store.move(row, ChargeStatus.DECLINED, now=now)
    if exc.kind is DeclineKind.SOFT:
        _retry_or_give_up(ctx, session, row, today, now)
        return
    enrollment = store.active(session, row.company_id, row.customer_id)
    if enrollment is not None and enrollment.payment_method_id == row.payment_method_id:
        store.stop(enrollment, f"declined: {row.decline_code}", now=now)
    customer = mirror.get_customer(session, row.company_id, row.customer_id)
    if customer is not None:
        reason = "Automatic payment stopped: your bank declined the card on file."
        open_request(ctx, session, customer, update_card_ident(row), reason, now)
    _tell(session, row, ChargeOutcome.HARD, now)


def _retry_or_give_up(ctx: Context, session: Session, row: AutopayCharge, today: date, now: datetime) -> None:
    schedule = ctx.settings.company(row.company_id).autopay.retry_days
    if row.attempt > len(schedule):
        _tell(session, row, ChargeOutcome.FAILED, now)
        return
    retry = store.plan(
        session,
        realm_id=row.company_id,
        customer_id=row.customer_id,
        invoice_id=row.invoice_id,
        balance=row.balance,
        currency=row.currency,
        attempt=row.attempt + 1,
        charge_on=today + timedelta(days=schedule[row.attempt - 1]),
        method_id=row.payment_method_id,
        now=now,
    )
    if retry is None:
        return
    add_links(ctx, session, retry, now)
    # The retry's own notice: what failed, and when it is tried again (with skip / stop links).
    _tell(session, retry, ChargeOutcome.RETRY, now)


def _tell(session: Session, row: AutopayCharge, outcome: ChargeOutcome, now: datetime) -> None:
    email = AutopayOutcomeEmail(charge_key=row.key, outcome=outcome.value)
    effects.enqueue(session, email, company_id=row.company_id, now=now)
