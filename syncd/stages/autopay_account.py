"""Autopay for the customer: the enrollment page (methods, what is charged when, the terms),
enroll with a recorded authorisation, turn off, and the notice links that skip one charge or turn
autopay off (GET shows, POST acts; only the SHA-256 of a link's token is stored)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.autopay import ChargeStatus
from syncd.ports.autopay import (
    CONSENT_TEXT,
    CONSENT_VERSION,
    AutopayView,
    Enrolled,
    LinkView,
    MethodChoice,
    Upcoming,
)
from syncd.ports.portal import Branding
from syncd.stages import views
from syncd.stages.account import AccountService
from syncd.stages.autopay import charge_day, over_cap
from syncd.stages.autopay_mail import describe_method
from syncd.store import autopay as store
from syncd.store import holds, mirror
from syncd.store import saved_methods as methods
from syncd.store.models import AutopayCharge, CustomerRow, InvoiceRow, SavedMethodRow

_PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)


def stop(ctx: Context, session: Session, realm_id: str, customer_id: str, reason: str) -> bool:
    """Autopay off for the customer and every charge not yet made cancelled (the caller's
    transaction); False when it was off already."""
    row = store.active(session, realm_id, customer_id)
    if row is None:
        return False
    now = ctx.clock()
    store.stop(row, reason, now=now)
    for charge in store.charges_for_customer(session, realm_id, customer_id, [ChargeStatus.SCHEDULED]):
        store.move(charge, ChargeStatus.CANCELLED, now=now)
    return True


def consent_text(company: str, method: str, cap: Decimal | None, days: int) -> str:
    limit = f" up to {cap} per charge" if cap is not None else ""
    return CONSENT_TEXT.format(company=company, method=method, cap=limit, days=days)


class AutopayService:
    """The ``AutopayBackend`` over the store; sessions are the account's."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.accounts = AccountService(ctx)

    def _brand(self, session: Session, realm_id: str) -> Branding:
        return views.named_branding(self.ctx, realm_id, views.company_name(self.ctx, realm_id, session))

    def page(self, sid: str) -> AutopayView | None:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            customer = self.accounts.current_customer(session, sid)
            if customer is None:
                return None
            realm = customer.company_id
            settings = ctx.settings.company(realm).autopay
            on_file = methods.on_file(session, realm, customer.qbo_id)
            enrollment = store.active(session, realm, customer.qbo_id)
            enrolled = session.get(SavedMethodRow, enrollment.payment_method_id) if enrollment else None
            upcoming = self._upcoming(session, customer, enrollment is not None) if settings.enabled else ()
            return AutopayView(
                branding=self._brand(session, realm),
                customer_name=customer.display_name,
                enabled=settings.enabled,
                methods=tuple(MethodChoice(m.payment_method_id, describe_method(m), m.kind) for m in on_file),
                enrolled_method=describe_method(enrolled) if enrollment else None,
                cap=enrollment.cap if enrollment else None,
                upcoming=upcoming,
                charge_hour=settings.charge_hour,
                notice_days=settings.notice_days,
                consent_text=consent_text(
                    views.company_name(ctx, realm, session),
                    "chosen payment method",
                    None,
                    settings.notice_days,
                ),
                on_hold=holds.active(session, realm, customer.qbo_id) is not None,
            )

    def _upcoming(self, session: Session, customer: CustomerRow, enrolled: bool) -> tuple[Upcoming, ...]:
        settings = self.ctx.settings.company(customer.company_id).autopay
        enrollment = store.active(session, customer.company_id, customer.qbo_id)
        found: list[Upcoming] = []
        invoices = session.scalars(
            select(InvoiceRow)
            .where(
                InvoiceRow.company_id == customer.company_id,
                InvoiceRow.customer_id == customer.qbo_id,
                InvoiceRow.status.in_(_PAYABLE),
            )
            .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
        )
        for invoice in invoices:
            pending = store.charges_of(session, customer.company_id, invoice.qbo_id, [ChargeStatus.SCHEDULED])
            if pending:
                row = pending[-1]
                found.append(
                    Upcoming(invoice.doc_number, row.balance, row.currency, row.charge_on, "scheduled")
                )
                continue
            state = (
                "over_cap" if enrollment is not None and over_cap(enrollment, invoice.balance) else "planned"
            )
            day = max(charge_day(settings, invoice), self.ctx.clock().date())
            found.append(Upcoming(invoice.doc_number, invoice.balance, invoice.currency, day, state))
        return tuple(found)

    def enroll(
        self, sid: str, method_id: str, cap: Decimal | None, ip: str | None, user_agent: str | None
    ) -> Enrolled:
        ctx = self.ctx
        if cap is not None and (not cap.is_finite() or cap <= 0):
            return Enrolled.BAD_CAP
        with ctx.db.transaction() as session:
            customer = self.accounts.current_customer(session, sid)
            if customer is None:
                return Enrolled.NOT_FOUND
            realm = customer.company_id
            settings = ctx.settings.company(realm).autopay
            if not settings.enabled:
                return Enrolled.NOT_OFFERED
            if holds.active(session, realm, customer.qbo_id) is not None:
                return Enrolled.ON_HOLD
            method = session.get(SavedMethodRow, method_id)
            if (
                method is None
                or method.detached_at is not None
                or (method.company_id, method.qbo_customer_id) != (realm, customer.qbo_id)
            ):
                return Enrolled.NOT_FOUND
            now = ctx.clock()
            previous = store.enrollment(session, realm, customer.qbo_id)
            if previous is not None and previous.stopped_at is None:
                stop(ctx, session, realm, customer.qbo_id, "changed")
            text = consent_text(
                views.company_name(ctx, realm, session), describe_method(method), cap, settings.notice_days
            )
            reference = f"autopay:{realm}:{customer.qbo_id}:{now.isoformat()}"
            methods.consent(
                session,
                reference=reference,
                realm_id=realm,
                qbo_customer_id=customer.qbo_id,
                text=f"[{CONSENT_VERSION}] {text}",
                ip=ip,
                user_agent=user_agent,
                now=now,
            ).payment_method_id = method_id
            store.enroll(
                session,
                realm_id=realm,
                customer_id=customer.qbo_id,
                method_id=method_id,
                cap=cap,
                consent_reference=reference,
                now=now,
            )
        ctx.wake("pull", realm)
        return Enrolled.DONE

    def turn_off(self, sid: str) -> bool:
        with self.ctx.db.transaction() as session:
            customer = self.accounts.current_customer(session, sid)
            if customer is None:
                return False
            stop(self.ctx, session, customer.company_id, customer.qbo_id, "turned off by customer")
            return True

    def _link(self, session: Session, token: str) -> tuple[str, AutopayCharge] | None:
        digest = self.ctx.links.digest(token)
        row = store.link(session, digest) if digest else None
        if row is None or row.expires_at <= self.ctx.clock():
            return None
        charge = session.get(AutopayCharge, row.charge_key)
        return (row.purpose, charge) if charge is not None else None

    def _view(self, session: Session, purpose: str, charge: AutopayCharge, state: str) -> LinkView:
        invoice = mirror.get_invoice(session, charge.company_id, charge.invoice_id)
        return LinkView(
            branding=self._brand(session, charge.company_id),
            purpose=purpose,
            doc_number=invoice.doc_number if invoice else charge.invoice_id,
            amount=charge.balance,
            currency=charge.currency,
            on=charge.charge_on,
            state=state,
        )

    def _state(self, session: Session, purpose: str, charge: AutopayCharge) -> str:
        if purpose == "stop":
            on = store.active(session, charge.company_id, charge.customer_id) is not None
            return "open" if on else "done"
        status = ChargeStatus(charge.status)
        if status is ChargeStatus.SKIPPED:
            return "done"
        return "open" if status is ChargeStatus.SCHEDULED else "too_late"

    def link(self, token: str) -> LinkView | None:
        with self.ctx.db.transaction() as session:
            found = self._link(session, token)
            if found is None:
                return None
            purpose, charge = found
            return self._view(session, purpose, charge, self._state(session, purpose, charge))

    def use_link(self, token: str) -> LinkView | None:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            found = self._link(session, token)
            if found is None:
                return None
            purpose, charge = found
            state = self._state(session, purpose, charge)
            if state == "open":
                if purpose == "stop":
                    stop(ctx, session, charge.company_id, charge.customer_id, "turned off from a notice")
                else:
                    store.move(charge, ChargeStatus.SKIPPED, now=ctx.clock())
                digest = ctx.links.digest(token)
                used = store.link(session, digest) if digest else None
                if used is not None:
                    used.used_at = ctx.clock()
                state = "done"
            return self._view(session, purpose, charge, state)
