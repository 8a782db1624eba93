"""Read models built from the mirror: what the portal page and the emails show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.payments import PaymentStatus
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Branding, InvoiceView, PaymentState
from syncd.stages import methods
from syncd.store import mirror, plans, reviews
from syncd.store.models import Company, InvoiceRow, PaymentRow


def company_name(ctx: Context, realm_id: str, session: Session | None = None) -> str:
    configured = ctx.settings.company(realm_id).branding.name
    if configured:
        return configured
    if session is None:
        with ctx.db.transaction() as s:
            row = s.get(Company, realm_id)
            return row.name if row and row.name else "Billing"
    row = session.get(Company, realm_id)
    return row.name if row and row.name else "Billing"


def branding(ctx: Context, session: Session, realm_id: str) -> Branding:
    return named_branding(ctx, realm_id, company_name(ctx, realm_id, session))


def named_branding(ctx: Context, realm_id: str, name: str) -> Branding:
    """The company's configured branding under ``name`` (the caller read the name already)."""
    b = ctx.settings.company(realm_id).branding
    return Branding(
        locale=ctx.settings.company(realm_id).locale,
        name=name,
        logo_url=b.logo_url,
        primary_color=b.primary_color,
        accent_color=b.accent_color,
        contact_email=b.contact_email,
        contact_phone=b.contact_phone,
        message=b.message,
    )


def in_flight(session: Session, invoice: InvoiceRow) -> tuple[Decimal, bool]:
    """Money Stripe has taken for the invoice that QBO does not show yet, and whether an ACH
    payment for it is still processing."""
    rows = session.scalars(
        select(PaymentRow).where(
            PaymentRow.company_id == invoice.company_id,
            PaymentRow.status.in_([PaymentStatus.SUCCEEDED.value, PaymentStatus.PROCESSING.value]),
            PaymentRow.qbo_payment_id.is_(None),
        )
    )
    settled = Decimal(0)
    processing = False
    for row in rows:
        if invoice.qbo_id not in row.invoice_ids:
            continue
        if row.status == PaymentStatus.PROCESSING.value:
            processing = True
        elif len(row.invoice_ids) == 1:
            settled += row.amount
        else:
            # Several invoices in one payment are each paid in full (the account pays whole
            # balances), so none is offered again while QBO has not booked it yet.
            settled += invoice.balance
    return settled, processing


def invoice_view(ctx: Context, session: Session, invoice: InvoiceRow, token: str) -> InvoiceView:
    company = ctx.settings.company(invoice.company_id)
    domain = mirror.to_invoice(invoice)
    settled, processing = in_flight(session, invoice)
    balance = max(Decimal(0), invoice.balance - settled)
    status = domain.status
    if status.payable and balance <= 0:
        status = InvoiceStatus.PAID
    state = PaymentState.NONE
    if status is not InvoiceStatus.VOIDED and invoice.qbo_id in reviews.held_invoices(
        session, invoice.company_id
    ):
        state = PaymentState.REVIEW
    elif status is InvoiceStatus.PAID:
        state = PaymentState.PAID
    elif processing:
        state = PaymentState.PROCESSING
    today = ctx.clock().date()
    brand = branding(ctx, session, invoice.company_id)
    offered = methods.offered(ctx, session, invoice.company_id, invoice.customer_id)
    asked = plans.due_by_link(session, invoice.company_id, invoice.qbo_id) if status.payable else None
    if asked is not None:
        # A payment on its way to QuickBooks already pays the installment (the plan sees it next).
        asked = min(asked - settled, balance)
        asked = asked if asked > 0 else None
    return InvoiceView(
        token=token,
        branding=brand,
        doc_number=invoice.doc_number,
        customer_name=invoice.customer_name,
        txn_date=invoice.txn_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        lines=domain.lines,
        tax=invoice.tax,
        total=invoice.total,
        amount_paid=invoice.total - balance if status is not InvoiceStatus.VOIDED else Decimal(0),
        balance=balance,
        status=status,
        payment_state=state,
        overdue=bool(status.payable and invoice.due_date and invoice.due_date < today),
        allow_partial=company.allow_partial or asked is not None,
        min_partial=min(company.min_partial, asked) if asked is not None else company.min_partial,
        memo=None,
        payment_methods=offered,
        keep_offer=keep_offer(company.save_methods, offered, brand.name),
        plan_amount=asked,
    )


def keep_offer(save_methods: bool, offered: tuple[str, ...], company_name: str) -> str | None:
    """The "keep this card for next time" consent text, when the company offers it and a card
    may be used; recorded word for word when the payer ticks it."""
    if not save_methods or "card" not in offered:
        return None
    return TEXT["keep_method"].format(consent=TEXT["method_consent"].format(company=company_name))


def recipient(session: Session, invoice: InvoiceRow) -> str | None:
    if invoice.email:
        return invoice.email
    customer = mirror.get_customer(session, invoice.company_id, invoice.customer_id)
    return customer.email if customer is not None else None


def invoice_email_context(
    ctx: Context, session: Session, invoice: InvoiceRow
) -> tuple[str | None, dict[str, Any]]:
    b = ctx.settings.company(invoice.company_id).branding
    due: date | None = invoice.due_date
    context: dict[str, Any] = {
        "company_name": company_name(ctx, invoice.company_id, session),
        "brand_color": b.primary_color,
        "logo_url": b.logo_url,
        "contact_email": b.contact_email,
        "contact_phone": b.contact_phone,
        "customer_name": invoice.customer_name,
        "invoice_number": invoice.doc_number,
        "amount_due": invoice.balance,
        "currency": invoice.currency,
        "due_date": due,
        "portal_url": ctx.links.url(invoice.company_id, invoice.qbo_id),
    }
    return recipient(session, invoice), context
