"""The account page's view, built in memory from the three result sets ``store.account_page`` reads:
what is owed (with each open invoice's state), the payment history, the totals per currency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.payments import PaymentStatus
from syncd.ports.account import AccountView, OpenItem, PaidItem
from syncd.ports.portal import Branding
from syncd.store import account_page
from syncd.store.models import CustomerRow, InvoiceRow, PaymentRow

PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)
# The payments a customer sees in their history (and may open a receipt of).
HISTORY = (PaymentStatus.SUCCEEDED.value, PaymentStatus.PROCESSING.value, PaymentStatus.RETURNED.value)


def paid_item(pay: PaymentRow | account_page.Movement, numbers: dict[str, str]) -> PaidItem:
    return PaidItem(
        ref=pay.key,
        at=pay.updated_at,
        amount=pay.amount,
        currency=pay.currency,
        method=pay.method or "card",
        state=pay.status,
        invoice_numbers=tuple(numbers.get(i, i) for i in pay.invoice_ids),
        invoice_ids=tuple(pay.invoice_ids),
    )


def build(
    ctx: Context,
    customer: CustomerRow,
    invoices: list[InvoiceRow],
    paid: list[account_page.Movement],
    held: set[str],
    can_pay: bool,
    email: str | None,
    others: int,
    brand: Branding,
) -> AccountView:
    """Built from three result sets in memory, so 500 invoices cost no more queries than five."""
    today = ctx.clock().date()
    processing: set[str] = set()
    settled: set[str] = set()
    for p in paid:
        if p.qbo_payment_id is None and p.status == PaymentStatus.PROCESSING.value:
            processing.update(p.invoice_ids)
        elif p.qbo_payment_id is None and p.status == PaymentStatus.SUCCEEDED.value:
            settled.update(p.invoice_ids)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    items = []
    links = ctx.links  # derives its key once, not once per invoice
    numbers = {i.qbo_id: i.doc_number for i in invoices}
    for inv in invoices:
        if inv.status not in PAYABLE or inv.balance <= 0:
            continue
        if inv.qbo_id in held:
            state = "review"
        elif inv.qbo_id in settled:
            state = "paid"
        elif inv.qbo_id in processing:
            state = "processing"
        elif inv.due_date is not None and inv.due_date < today:
            state = "overdue"
        else:
            state = inv.status
        if state != "paid":
            totals[inv.currency] += inv.balance
        items.append(
            OpenItem(
                invoice_id=inv.qbo_id,
                doc_number=inv.doc_number,
                txn_date=inv.txn_date,
                due_date=inv.due_date,
                balance=inv.balance,
                currency=inv.currency,
                state=state,
                payable=can_pay and state in ("open", "overdue", "partial"),
                url=links.url(inv.company_id, inv.qbo_id),
            )
        )
    history = tuple(paid_item(p, numbers) for p in paid if p.status in HISTORY)
    return AccountView(
        branding=brand,
        customer_name=customer.display_name,
        email=customer.email,
        phone=customer.phone,
        totals=tuple(sorted(totals.items())),
        open_items=tuple(items),
        history=history,
        signed_in_as=email,
        other_accounts=max(0, others),
    )
