"""Autopay planning, once per company cycle: a notice for each enrolled customer's open invoice
``notice_days`` before its charge day, a new notice (and a later day) when the invoice changed
beyond the tolerance, and on the day, from the company's charge hour, the charge effect.

Nothing is charged here: ``autopay_charges.charge`` re-reads the invoice from QBO first. Each
attempt is an ``autopay_charges`` row unique per (invoice, balance, attempt), made in the
transaction that queues its notice, so a crash between the two loses or doubles nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import Payload
from syncd.catalog.payloads_autopay import AutopayCharge as ChargeEffect
from syncd.catalog.payloads_autopay import AutopayNoticeEmail, AutopayOutcomeEmail
from syncd.config.autopay import AutopaySettings, ChargeOn
from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.autopay import ChargeOutcome, ChargeStatus
from syncd.stages.notify import local_now
from syncd.store import autopay as store
from syncd.store import effects, plans
from syncd.store.models import AutopayCharge, AutopayEnrollment, InvoiceRow, SavedMethodRow

# Links in a notice work until well after the charge day (a retry's notice names a later one).
LINK_LIFETIME = timedelta(days=45)
PURPOSES = ("skip", "stop")
_PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)
# An invoice's history that stands in the way of planning its balance again from scratch: it was
# charged, is being retried, or the customer chose otherwise for it.
_SETTLED = (
    ChargeStatus.SUCCEEDED,
    ChargeStatus.PROCESSING,
    ChargeStatus.DECLINED,
    ChargeStatus.NEEDS_ACTION,
    ChargeStatus.SKIPPED,
    ChargeStatus.OVER_CAP,
)


def link_token(ctx: Context, realm_id: str, purpose: str, charge_key: str) -> str:
    """The token of a notice's one-click link, derived again when mailed (never stored)."""
    return ctx.links.token(realm_id, f"autopay\x00{purpose}\x00{charge_key}")


def link_url(ctx: Context, token: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/autopay/{token}"


def run(ctx: Context, realm_id: str) -> int:
    """Plan notices and start the day's charges for the company; returns the effects queued."""
    settings = ctx.settings.company(realm_id).autopay
    if not settings.enabled:
        return 0
    local = local_now(ctx, realm_id)
    today, now = local.date(), ctx.clock()
    queued = 0
    with ctx.db.transaction() as session:
        customers = [e.customer_id for e in store.enrolled(session, realm_id) if e.stopped_at is None]
        open_invoices = _open_invoices(session, realm_id, set(customers))
        # An installment plan charges these itself: never two charges for one balance.
        planned = plans.active_invoices(session, realm_id)
    for first in range(0, len(customers), CUSTOMERS_AT_ONCE):
        chunk = customers[first : first + CUSTOMERS_AT_ONCE]
        # A transaction per few hundred customers, their rows read in a few statements: a day of
        # thousands of notices neither holds one huge session nor pays a commit and reads per customer.
        with ctx.db.transaction() as session:
            ahead = _Ahead.read(session, realm_id, chunk, open_invoices)
            notices: list[Payload] = []
            for customer_id in chunk:
                enrollment = ahead.enrollments.get(customer_id)
                if enrollment is None or enrollment.stopped_at is not None:
                    continue
                found = [
                    ahead.invoices[i]
                    for i in open_invoices.get(customer_id, [])
                    if i in ahead.invoices and ahead.invoices[i].status in _PAYABLE and i not in planned
                ]
                queued += _plan_customer(
                    ctx, session, settings, enrollment, found, today, now, ahead, notices
                )
            queued += len(effects.enqueue_many(session, notices, company_id=realm_id, now=now))
    if local.hour >= settings.charge_hour:
        with ctx.db.transaction() as session:
            queued += _start_due(session, realm_id, today, now, plans.active_invoices(session, realm_id))
    if queued:
        ctx.wake("worker", None)
    return queued


CUSTOMERS_AT_ONCE = 250


@dataclass
class _Ahead:
    """A chunk of customers' rows read ahead: enrollments, invoices, saved methods (in the
    session's identity map) and each invoice's attempts, oldest first."""

    enrollments: dict[str, AutopayEnrollment]
    invoices: dict[str, InvoiceRow]
    history: dict[str, list[AutopayCharge]]

    @classmethod
    def read(
        cls, session: Session, realm_id: str, customers: list[str], open_invoices: dict[str, list[str]]
    ) -> _Ahead:
        enrollments = {
            e.customer_id: e
            for e in session.scalars(
                select(AutopayEnrollment).where(
                    AutopayEnrollment.company_id == realm_id, AutopayEnrollment.customer_id.in_(customers)
                )
            )
        }
        methods = sorted({e.payment_method_id for e in enrollments.values()})
        list(session.scalars(select(SavedMethodRow).where(SavedMethodRow.payment_method_id.in_(methods))))
        ids = [i for c in customers for i in open_invoices.get(c, [])]
        invoices: dict[str, InvoiceRow] = {}
        history: dict[str, list[AutopayCharge]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            invoices.update(
                (i.qbo_id, i)
                for i in session.scalars(
                    select(InvoiceRow).where(InvoiceRow.company_id == realm_id, InvoiceRow.qbo_id.in_(part))
                )
            )
            for row in session.scalars(
                select(AutopayCharge)
                .where(AutopayCharge.company_id == realm_id, AutopayCharge.invoice_id.in_(part))
                .order_by(AutopayCharge.created_at, AutopayCharge.attempt)
            ):
                history[row.invoice_id].append(row)
        return cls(enrollments, invoices, history)


def _open_invoices(session: Session, realm_id: str, customers: set[str]) -> dict[str, list[str]]:
    """The payable invoices of the enrolled ``customers``, by customer: one read of the company's
    open invoices (by its status index) instead of one per customer."""
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(InvoiceRow.qbo_id, InvoiceRow.customer_id).where(
            InvoiceRow.company_id == realm_id, InvoiceRow.status.in_(_PAYABLE)
        )
    )
    for invoice_id, customer_id in rows:
        if customer_id in customers:
            found.setdefault(customer_id, []).append(invoice_id)
    return found


def charge_day(settings: AutopaySettings, invoice: InvoiceRow) -> date:
    if settings.charge_on is ChargeOn.ISSUE or invoice.due_date is None:
        return invoice.txn_date
    return invoice.due_date


def _plan_customer(
    ctx: Context,
    session: Session,
    settings: AutopaySettings,
    enrollment: AutopayEnrollment,
    invoices: list[InvoiceRow],
    today: date,
    now: datetime,
    ahead: _Ahead,
    notices: list[Payload],
) -> int:
    method = session.get(SavedMethodRow, enrollment.payment_method_id)
    if method is None or method.detached_at is not None:
        store.stop(enrollment, "method removed", now=now)
        return 0
    queued = 0
    for invoice in invoices:
        day = charge_day(settings, invoice)
        if today < day - timedelta(days=settings.notice_days):
            continue
        history = ahead.history.get(invoice.qbo_id, [])
        queued += _plan_invoice(
            ctx, session, settings, enrollment, invoice, day, today, now, history, notices
        )
    return queued


def _plan_invoice(
    ctx: Context,
    session: Session,
    settings: AutopaySettings,
    enrollment: AutopayEnrollment,
    invoice: InvoiceRow,
    day: date,
    today: date,
    now: datetime,
    history: list[AutopayCharge],
    notices: list[Payload],
) -> int:
    """``history``: the invoice's attempts, oldest first; the notice is added to ``notices`` (queued
    by the caller with the rest of its chunk) and counted in the return only when queued here."""
    realm, balance = invoice.company_id, invoice.balance
    attempt = 1
    for row in history:
        status = ChargeStatus(row.status)
        if status is ChargeStatus.CHARGING:
            return 0
        if status is ChargeStatus.SCHEDULED:
            if abs(row.balance - balance) <= settings.change_tolerance:
                return 0
            store.move(row, ChargeStatus.SUPERSEDED, now=now)
            attempt = row.attempt
        elif row.balance == balance and _stands(status, row, enrollment):
            return 0
    # Never sooner than notice_days after the notice this sends.
    charge_on = max(day, today + timedelta(days=settings.notice_days))
    while True:
        planned = store.plan(
            session,
            realm_id=realm,
            customer_id=invoice.customer_id,
            invoice_id=invoice.qbo_id,
            balance=balance,
            currency=invoice.currency,
            attempt=attempt,
            charge_on=charge_on,
            method_id=enrollment.payment_method_id,
            now=now,
        )
        if planned is not None:
            break
        attempt += 1  # this balance was planned before and cancelled or superseded since
    if over_cap(enrollment, balance):
        store.move(planned, ChargeStatus.OVER_CAP, now=now)
        outcome = AutopayOutcomeEmail(charge_key=planned.key, outcome=ChargeOutcome.OVER_CAP.value)
        return effects.enqueue(session, outcome, company_id=realm, now=now)
    add_links(ctx, session, planned, now)
    notices.append(AutopayNoticeEmail(charge_key=planned.key))
    return 0


def _stands(status: ChargeStatus, row: AutopayCharge, enrollment: AutopayEnrollment) -> bool:
    """Whether an earlier attempt at this balance rules out planning it again. Money taken stands
    for good; a skip, decline or cap only for the enrollment it met (turned on again, perhaps with
    a new card or limit, the balance is planned anew)."""
    if status in (ChargeStatus.SUCCEEDED, ChargeStatus.PROCESSING):
        return True
    return status in _SETTLED and row.created_at >= enrollment.enrolled_at


def add_links(ctx: Context, session: Session, charge: AutopayCharge, now: datetime) -> None:
    """The skip and stop links of ``charge``, which the caller has just planned (``store.plan``)."""
    for purpose in PURPOSES:
        digest = ctx.links.digest(link_token(ctx, charge.company_id, purpose, charge.key))
        assert digest is not None
        expires = now + LINK_LIFETIME
        store.add_link(
            session,
            digest=digest,
            purpose=purpose,
            charge=charge,
            now=now,
            expires_at=expires,
            known_new=True,
        )


def _start_due(session: Session, realm_id: str, today: date, now: datetime, planned: set[str]) -> int:
    due = store.due(session, realm_id, today)
    enrollments = {
        e.customer_id: e
        for e in session.scalars(
            select(AutopayEnrollment).where(
                AutopayEnrollment.company_id == realm_id, AutopayEnrollment.stopped_at.is_(None)
            )
        )
    }
    payloads: list[Payload] = []
    for row in due:
        enrollment = enrollments.get(row.customer_id)
        if (
            enrollment is None
            or enrollment.payment_method_id != row.payment_method_id
            or row.invoice_id in planned
        ):
            store.move(row, ChargeStatus.CANCELLED, now=now)
            continue
        store.move(row, ChargeStatus.CHARGING, now=now)
        payloads.append(ChargeEffect(charge_key=row.key, customer_id=row.customer_id))
    # One multi-row insert per 500 charges, in the transaction that moved them to charging.
    return len(effects.enqueue_many(session, payloads, company_id=realm_id, now=now))


def over_cap(enrollment: AutopayEnrollment, amount: Decimal) -> bool:
    return enrollment.cap is not None and amount > enrollment.cap
