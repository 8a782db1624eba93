"""The ``stripe.plan_charge`` effect: charge one installment on the customer's autopay method
through the charge primitive, after re-reading the invoice from QBO (paid or voided: nothing; a
lower balance: at most that), and act on the answer like autopay: paid or processing (the books
follow: a partial QBO Payment on the invoice), a soft decline retried on autopay's ``retry_days``
with an email each time, and a hard decline, authentication required or the last retry declined
make the installment missed (the customer gets its link, staff are told).

The key is per attempt (``plan:<realm>:<plan>:<seq>:<attempt>``); a replay after a crash sends
the same amount under the same key, so Stripe (or the connector's metadata lookup past its 24 h
key window) answers with the first outcome instead of charging again.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from syncd.catalog.payloads_plans import PlanCharge, PlanEmail
from syncd.context import Context
from syncd.domain import MethodKind
from syncd.domain.autopay import SavedCharge
from syncd.domain.plans import InstallmentStatus, PlanStatus
from syncd.domain.stripe import PaymentIntent, PaymentIntentStatus
from syncd.errors import DeclinedError, DeclineKind
from syncd.stages import autocharge
from syncd.stages.autopay_charges import mandate_of
from syncd.stages.plans import missed, send_link
from syncd.store import autopay, effects
from syncd.store import plans as store
from syncd.store.effects import Claimed
from syncd.store.models import InstallmentPlan, PlanInstallment, SavedMethodRow
from syncd.worker import Done


def _row(session: Session, key: str) -> PlanInstallment | None:
    parsed = store.parse_key(key)
    if parsed is None:
        return None
    plan_id, seq, attempt = parsed
    row = session.get(PlanInstallment, (plan_id, seq))
    return row if row is not None and row.attempt == attempt else None


def charge(ctx: Context, effect: Claimed) -> Done:
    key = PlanCharge.of(effect).charge_key
    realm = effect.company_id
    with ctx.db.transaction() as session:
        row = _row(session, key)
        if row is None or row.status != InstallmentStatus.CHARGING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        plan = session.get(InstallmentPlan, row.plan_id)
        enrollment = autopay.active(session, realm, row.customer_id)
        method = session.get(SavedMethodRow, row.payment_method_id) if row.payment_method_id else None
        usable = (
            plan is not None
            and plan.status == PlanStatus.ACTIVE.value
            and enrollment is not None
            and enrollment.payment_method_id == row.payment_method_id
            and method is not None
            and method.detached_at is None
        )
        plan_active = plan is not None and plan.status == PlanStatus.ACTIVE.value
        sent, amount_due = row.charged, row.amount
        invoice_id, customer_id, currency = row.invoice_id, row.customer_id, row.currency
        method_id = row.payment_method_id or ""
        stripe_customer = method.stripe_customer_id if method else ""
        method_kind = method.kind if method else "card"
        mandate = mandate_of(session, enrollment) if method_kind == MethodKind.US_BANK_ACCOUNT.value else None
    if sent is None and not usable:
        # Once an amount was sent, Stripe may have taken it: a replay must learn the outcome.
        return Done(
            remote_id="skipped:not-chargeable", apply=lambda s: _not_charged(s, key, plan_active, ctx)
        )
    amount = sent
    if amount is None:
        fresh = ctx.qbo(realm).get_invoice(invoice_id)
        if fresh is None or not fresh.status.payable or fresh.balance <= 0:
            return Done(remote_id="skipped:not-payable", apply=lambda s: _not_charged(s, key, False, ctx))
        amount = min(amount_due, fresh.balance)
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
    )

    def record(session: Session) -> None:
        held = _row(session, key)
        assert held is not None
        held.charged = amount

    return autocharge.attempt(
        ctx,
        request,
        method_kind=method_kind,
        record=record,
        declined=lambda s, exc, today: _declined(ctx, s, request, exc, today),
        charged=lambda s, intent: _charged(ctx, s, request, intent),
    )


def _not_charged(session: Session, key: str, plan_active: bool, ctx: Context) -> None:
    """No charge after all: autopay went off (the link instead), or the plan or invoice ended."""
    row = _row(session, key)
    if row is None or row.status != InstallmentStatus.CHARGING.value:
        return
    if plan_active:
        send_link(session, row, ctx.clock())
    else:
        store.move(row, InstallmentStatus.SCHEDULED, now=ctx.clock())  # the plan's check decides


def _charged(ctx: Context, session: Session, request: SavedCharge, intent: PaymentIntent) -> None:
    now = ctx.clock()
    row = _row(session, request.payment_key)
    assert row is not None
    row.payment_intent_id = intent.id
    if intent.status is PaymentIntentStatus.SUCCEEDED:
        row.paid_at = now
        store.move(row, InstallmentStatus.PAID, now=now)
    elif intent.status is PaymentIntentStatus.PROCESSING:
        store.move(row, InstallmentStatus.PROCESSING, now=now)
    autocharge.settled(ctx, session, request, intent)
    if intent.status not in (PaymentIntentStatus.SUCCEEDED, PaymentIntentStatus.PROCESSING):
        missed(ctx, session, row, f"the charge ended {intent.status.value}", now)


def _declined(ctx: Context, session: Session, request: SavedCharge, exc: DeclinedError, today: date) -> None:
    now = ctx.clock()
    row = _row(session, request.payment_key)
    assert row is not None
    row.decline_code = (exc.code or "declined")[:64]
    autocharge.failed(session, request, f"{exc.code}: {exc.customer_message}", now=now)
    schedule = ctx.settings.company(row.company_id).autopay.retry_days
    if exc.kind is DeclineKind.SOFT and row.attempt <= len(schedule):
        row.charge_on = today + timedelta(days=schedule[row.attempt - 1])
        row.charged = None
        store.move(row, InstallmentStatus.SCHEDULED, now=now)
        retry = PlanEmail(plan_id=row.plan_id, seq=row.seq, topic="retry", attempt=row.attempt)
        effects.enqueue(session, retry, company_id=row.company_id, now=now)
        return
    if exc.kind is DeclineKind.HARD:
        enrollment = autopay.active(session, row.company_id, row.customer_id)
        if enrollment is not None and enrollment.payment_method_id == row.payment_method_id:
            autopay.stop(enrollment, f"declined: {row.decline_code}", now=now)
    why = {
        DeclineKind.SOFT: f"the bank declined it ({row.decline_code}) and every retry",
        DeclineKind.HARD: f"the bank declined the method for good ({row.decline_code})",
        DeclineKind.AUTHENTICATION: "the bank asked the customer to confirm the payment themselves",
    }.get(exc.kind, f"declined ({row.decline_code})")
    missed(ctx, session, row, why, now)
