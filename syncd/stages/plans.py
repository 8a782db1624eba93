"""Installment plans: made and cancelled by staff, then followed once per company cycle.

Each active plan's invoice is checked first: paid closes the plan; voided, deleted, a new total or
a balance that moved other than by syncd's own payments suspends it (staff are told, nothing more
is charged). Then its installments: a notice ``notice_days`` before each charge of a customer on
autopay, on the day (from the company's charge hour) the charge effect on their autopay method or,
for anyone else, an email with a link for exactly that amount; a link still unpaid
``plan_missed_days`` later is a missed installment (the customer is reminded, staff told). A
payment through a link covers the oldest installments waiting on one.

Every state change is committed with the effects it queues, one plan per transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads_email import StaffAlert
from syncd.catalog.payloads_plans import PlanCharge, PlanEmail
from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.autopay import ChargeStatus
from syncd.domain.payments import PaymentStatus
from syncd.domain.plans import Cadence, InstallmentStatus, PlanError, PlanStatus, due_dates, split
from syncd.stages import views
from syncd.stages.notify import local_now
from syncd.store import autopay, effects, mirror
from syncd.store import plans as store
from syncd.store.models import InstallmentPlan, InvoiceRow, PaymentRow, PlanInstallment, SavedMethodRow

_CLOSED = (InvoiceStatus.PAID.value,)
_GONE = (InvoiceStatus.VOIDED.value, InvoiceStatus.DELETED.value)
_BY_LINK = store.BY_LINK
_COVERABLE = (InstallmentStatus.SCHEDULED.value, *_BY_LINK)


def find_invoice(session: Session, realm_id: str, ref: str) -> InvoiceRow | None:
    """The invoice ``ref`` names: its QuickBooks id, else its number (DocNumber)."""
    row = session.get(InvoiceRow, (realm_id, ref))
    if row is not None:
        return row
    return session.scalars(
        select(InvoiceRow).where(InvoiceRow.company_id == realm_id, InvoiceRow.doc_number == ref)
    ).first()


@dataclass(frozen=True, slots=True)
class Proposal:
    """What ``create`` would make: the invoice, and each part's date and amount (the down payment
    first), as the console shows it before staff confirm."""

    invoice_id: str
    invoice_number: str
    customer_id: str
    currency: str
    balance: Decimal
    parts: tuple[tuple[date, Decimal], ...]


def _checked(
    session: Session,
    realm_id: str,
    invoice_ref: str,
    *,
    down: Decimal,
    count: int,
    every: Cadence,
    start: date | None,
    today: date,
) -> tuple[InvoiceRow, list[Decimal], list[date]]:
    """Every rule a new plan obeys, checked in ``session``: the invoice, the amounts, the dates."""
    invoice = find_invoice(session, realm_id, invoice_ref)
    if invoice is None:
        raise PlanError(f"no invoice {invoice_ref!r} in company {realm_id} (give its number or id)")
    if invoice.status in _CLOSED or invoice.status in _GONE:
        number = invoice.doc_number or invoice.qbo_id
        raise PlanError(f"invoice {number} is {invoice.status}: nothing to plan")
    existing = store.in_force(session, realm_id, invoice.qbo_id)
    if existing is not None:
        raise PlanError(
            f"invoice {invoice.doc_number or invoice.qbo_id} is already in plan {existing.id} "
            f"({existing.status}); cancel that one first"
        )
    settled, processing = views.in_flight(session, invoice)
    charging = autopay.charges_of(session, realm_id, invoice.qbo_id, [ChargeStatus.CHARGING])
    if settled or processing or charging:
        raise PlanError(
            f"a payment of invoice {invoice.doc_number or invoice.qbo_id} is on its way to QuickBooks: "
            "make the plan once it is booked (the balance then is what the plan splits)"
        )
    if start is not None and start < today:
        raise PlanError(f"the start date {start} is in the past (today is {today})")
    amounts = split(invoice.balance, down, count, invoice.currency)
    return invoice, amounts, due_dates(start or today, every, count)


def preview(
    ctx: Context,
    realm_id: str,
    invoice_ref: str,
    *,
    down: Decimal,
    count: int,
    every: Cadence,
    start: date | None = None,
) -> Proposal:
    """The plan ``create`` would make with the same arguments, changing nothing; PlanError (one
    line) for the same reasons."""
    today = local_now(ctx, realm_id).date()
    with ctx.db.transaction() as session:
        invoice, amounts, dates = _checked(
            session, realm_id, invoice_ref, down=down, count=count, every=every, start=start, today=today
        )
        return Proposal(
            invoice.qbo_id,
            invoice.doc_number or invoice.qbo_id,
            invoice.customer_id,
            invoice.currency,
            invoice.balance,
            tuple(zip(dates, amounts, strict=True)),
        )


def create(
    ctx: Context,
    realm_id: str,
    invoice_ref: str,
    *,
    down: Decimal,
    count: int,
    every: Cadence,
    start: date | None = None,
) -> int:
    """Make a plan over the invoice's open balance; returns its id. Raises PlanError (one line)
    for an unknown, paid or voided invoice, one already in a plan, or a split that cannot be."""
    now = ctx.clock()
    today = local_now(ctx, realm_id).date()
    with ctx.db.transaction() as session:
        invoice, amounts, dates = _checked(
            session, realm_id, invoice_ref, down=down, count=count, every=every, start=start, today=today
        )
        plan = store.create(
            session,
            realm_id=realm_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.qbo_id,
            currency=invoice.currency,
            total=invoice.total,
            balance=invoice.balance,
            amounts=amounts,
            dates=dates,
            every=every,
            now=now,
        )
        # Never two charges for one balance: autopay lets go of the invoice.
        for row in autopay.charges_of(session, realm_id, invoice.qbo_id, [ChargeStatus.SCHEDULED]):
            autopay.move(row, ChargeStatus.CANCELLED, now=now)
        return plan.id


def cancel(ctx: Context, realm_id: str | None, plan_id: int) -> InstallmentPlan:
    """Cancel a plan in force (of ``realm_id`` when given): what is not paid or being charged is
    neither charged nor sent, and the invoice is reminded and autopaid as any other again."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        plan = session.get(InstallmentPlan, plan_id)
        if plan is None or (realm_id is not None and plan.company_id != realm_id):
            raise PlanError(f"no plan {plan_id}" + (f" in company {realm_id}" if realm_id else ""))
        if plan.status not in store.IN_FORCE:
            raise PlanError(f"plan {plan_id} is {plan.status} already")
        store.move_plan(plan, PlanStatus.CANCELLED, "cancelled by staff", now=now)
        _cancel_rest(session, plan, now)
        session.expunge(plan)
        return plan


def _cancel_rest(session: Session, plan: InstallmentPlan, now: datetime) -> None:
    for row in store.installments(session, plan.id):
        if row.status in (InstallmentStatus.SCHEDULED.value, *_BY_LINK):
            store.move(row, InstallmentStatus.CANCELLED, now=now)


def run(ctx: Context, realm_id: str) -> int:
    """Follow the company's active plans; returns the effects queued."""
    local = local_now(ctx, realm_id)
    with ctx.db.transaction() as session:
        ids = [p.id for p in store.plans_of(session, realm_id, [PlanStatus.ACTIVE])]
    queued = 0
    for plan_id in ids:
        with ctx.db.transaction() as session:
            plan = session.get(InstallmentPlan, plan_id)
            if plan is not None and plan.status == PlanStatus.ACTIVE.value:
                queued += _follow(ctx, session, plan, local)
    if queued:
        ctx.wake("worker", None)
    return queued


def paid_by_syncd(session: Session, plan: InstallmentPlan) -> tuple[Decimal, Decimal]:
    """What syncd's own payments of the invoice since the plan was made took: (all of them, those
    made through a link rather than an installment charge)."""
    rows = session.execute(
        select(PaymentRow.key, PaymentRow.amount, PaymentRow.invoice_ids).where(
            PaymentRow.company_id == plan.company_id,
            PaymentRow.customer_id == plan.customer_id,
            PaymentRow.status == PaymentStatus.SUCCEEDED.value,
            PaymentRow.created_at >= plan.created_at,
        )
    )
    total = by_link = Decimal(0)
    for key, amount, invoice_ids in rows:
        if list(invoice_ids) != [plan.invoice_id]:
            continue  # an account payment of several whole invoices: the balance check sees it
        total += amount
        if not key.startswith(store.KEY_PREFIX):
            by_link += amount
    return total, by_link


def _follow(ctx: Context, session: Session, plan: InstallmentPlan, local: datetime) -> int:
    now, today = ctx.clock(), local.date()
    invoice = session.get(InvoiceRow, (plan.company_id, plan.invoice_id))
    rows = store.installments(session, plan.id)
    if invoice is None or invoice.status in _GONE:
        return _suspend(ctx, session, plan, rows, "the invoice was voided or deleted in QuickBooks", now)
    if invoice.status in _CLOSED or invoice.balance <= 0:
        store.move_plan(plan, PlanStatus.CLOSED, "the invoice is paid", now=now)
        for row in rows:
            if row.status in (InstallmentStatus.SCHEDULED.value, *_BY_LINK):
                row.paid_at = now
                store.move(row, InstallmentStatus.PAID, now=now)
        return 0
    paid, by_link = paid_by_syncd(session, plan)
    if invoice.total != plan.total or invoice.balance > plan.balance or invoice.balance < plan.balance - paid:
        reason = (
            f"the invoice was changed in QuickBooks (total {plan.total:f} -> {invoice.total:f}, "
            f"balance {plan.balance:f} -> {invoice.balance:f})"
        )
        return _suspend(ctx, session, plan, rows, reason, now)
    _cover_links(rows, by_link, now)
    settings = ctx.settings.company(plan.company_id).autopay
    method = _autopay_method(session, plan) if settings.enabled else None
    queued = 0
    for row in rows:
        status = InstallmentStatus(row.status)
        if status is InstallmentStatus.PROCESSING:
            queued += _settled_debit(ctx, session, row, now)
        elif status is InstallmentStatus.SCHEDULED:
            queued += _due(ctx, session, plan, row, method, local, now)
        elif status is InstallmentStatus.LINK_SENT and today >= row.due_on + timedelta(
            days=settings.plan_missed_days
        ):
            queued += missed(ctx, session, row, "the link was not paid", now)
    return queued


def _settled_debit(ctx: Context, session: Session, row: PlanInstallment, now: datetime) -> int:
    """A bank debit that was processing: paid once it settled, missed when it failed."""
    payment = session.get(PaymentRow, store.charge_key(row.company_id, row.plan_id, row.seq, row.attempt))
    if payment is None:
        return 0
    if payment.status == PaymentStatus.SUCCEEDED.value:
        row.paid_at = now
        store.move(row, InstallmentStatus.PAID, now=now)
    elif payment.status in (PaymentStatus.FAILED.value, PaymentStatus.RETURNED.value):
        return missed(ctx, session, row, "the bank debit did not go through", now)
    return 0


def _cover_links(rows: list[PlanInstallment], by_link: Decimal, now: datetime) -> None:
    """Mark paid, oldest first, the parts the customer's own payments (through a link or the
    invoice page) cover: a part sent or missed, or one not due yet, which is then never charged.
    ``charged`` stays None on those: it is what tells them from charged ones."""
    available = by_link - sum(
        (r.amount for r in rows if r.status == InstallmentStatus.PAID.value and r.charged is None),
        Decimal(0),
    )
    for row in rows:
        if row.status not in _COVERABLE:
            continue
        if row.amount > available:
            break
        available -= row.amount
        row.paid_at = now
        store.move(row, InstallmentStatus.PAID, now=now)


def _autopay_method(session: Session, plan: InstallmentPlan) -> str | None:
    """The customer's autopay method, while autopay is on and the method still on file."""
    enrollment = autopay.active(session, plan.company_id, plan.customer_id)
    if enrollment is None:
        return None
    method = session.get(SavedMethodRow, enrollment.payment_method_id)
    if method is None or method.detached_at is not None:
        return None
    return enrollment.payment_method_id


def _due(
    ctx: Context,
    session: Session,
    plan: InstallmentPlan,
    row: PlanInstallment,
    method: str | None,
    local: datetime,
    now: datetime,
) -> int:
    settings = ctx.settings.company(plan.company_id).autopay
    today = local.date()
    realm = plan.company_id
    if method is not None and row.attempt == 0 and row.noticed_at is None:
        if today < row.charge_on - timedelta(days=settings.notice_days):
            return 0
        # The notice first, and the charge never sooner than notice_days after it.
        row.noticed_at = now
        row.payment_method_id = method
        row.charge_on = max(row.charge_on, today + timedelta(days=settings.notice_days))
        row.updated_at = now
        notice = PlanEmail(plan_id=plan.id, seq=row.seq, topic="notice")
        return int(effects.enqueue(session, notice, company_id=realm, now=now))
    if today < row.charge_on or local.hour < settings.charge_hour:
        return 0
    if method is not None:
        row.attempt += 1
        row.payment_method_id = method
        store.move(row, InstallmentStatus.CHARGING, now=now)
        key = store.charge_key(realm, plan.id, row.seq, row.attempt)
        return int(
            effects.enqueue(
                session, PlanCharge(charge_key=key, customer_id=row.customer_id), company_id=realm, now=now
            )
        )
    return send_link(session, row, now)


def send_link(session: Session, row: PlanInstallment, now: datetime) -> int:
    """Email the customer a link for exactly the installment's amount."""
    store.move(row, InstallmentStatus.LINK_SENT, now=now)
    email = PlanEmail(plan_id=row.plan_id, seq=row.seq, topic="due", attempt=row.attempt)
    return int(effects.enqueue(session, email, company_id=row.company_id, now=now))


def missed(ctx: Context, session: Session, row: PlanInstallment, why: str, now: datetime) -> int:
    """The installment is missed: the customer gets a reminder with the link, staff an alert."""
    store.move(row, InstallmentStatus.MISSED, now=now)
    row.missed_at = now
    row.charged = None  # paid from now on through its link (how ``_cover_links`` tells)
    realm = row.company_id
    email = PlanEmail(plan_id=row.plan_id, seq=row.seq, topic="missed", attempt=row.attempt)
    queued = int(effects.enqueue(session, email, company_id=realm, now=now))
    customer = mirror.get_customer(session, realm, row.customer_id)
    invoice = mirror.get_invoice(session, realm, row.invoice_id)
    who = customer.display_name if customer else row.customer_id
    number = (invoice.doc_number if invoice else None) or row.invoice_id
    alert = StaffAlert(
        title=f"Installment missed: {who}, invoice {number}",
        body=(
            f"Installment {row.seq} of plan {row.plan_id} ({row.amount:f} {row.currency}, due "
            f"{row.due_on}) was missed: {why}. The customer was emailed a link to pay it."
        ),
        ident=f"plan:{realm}:{row.plan_id}:{row.seq}:missed",
    )
    return queued + int(effects.enqueue(session, alert, company_id=realm, now=now))


def _suspend(
    ctx: Context,
    session: Session,
    plan: InstallmentPlan,
    rows: list[PlanInstallment],
    reason: str,
    now: datetime,
) -> int:
    store.move_plan(plan, PlanStatus.SUSPENDED, reason, now=now)
    invoice = mirror.get_invoice(session, plan.company_id, plan.invoice_id)
    number = (invoice.doc_number if invoice else None) or plan.invoice_id
    alert = StaffAlert(
        title=f"Installment plan {plan.id} suspended (invoice {number})",
        body=(
            f"Plan {plan.id} stopped charging: {reason}. Nothing more is charged or sent for it. "
            f"Cancel it with `syncd plan cancel {plan.id} --company {plan.company_id}` and make a new "
            "plan over the invoice as it is now, if one is still wanted."
        ),
        ident=f"plan:{plan.company_id}:{plan.id}:suspended",
    )
    return int(effects.enqueue(session, alert, company_id=plan.company_id, now=now))
