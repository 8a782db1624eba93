"""An invoice mirrored from QuickBooks, and its status."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class InvoiceStatus(enum.Enum):
    """Where an invoice stands, derived from QBO's balance, total, void and delete markers."""

    OPEN = "open"
    PARTIAL = "partial"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"

    @property
    def payable(self) -> bool:
        return self in (InvoiceStatus.OPEN, InvoiceStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One sales line; ``amount`` is QBO's line Amount (quantity x unit price, before tax)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice of one QBO company. Amounts are in ``currency``; ``balance`` is what is still owed."""

    qbo_id: str
    doc_number: str
    customer_id: str
    customer_name: str
    currency: str
    txn_date: date
    due_date: date | None
    total: Decimal
    balance: Decimal
    tax: Decimal
    lines: tuple[InvoiceLine, ...]
    status: InvoiceStatus
    sync_token: str
    updated_at: datetime
    email: str | None = None
    memo: str | None = None

    @property
    def amount_paid(self) -> Decimal:
        return self.total - self.balance

    @staticmethod
    def status_for(
        total: Decimal, balance: Decimal, *, voided: bool = False, deleted: bool = False
    ) -> InvoiceStatus:
        """QBO has no status field: a void zeroes the total, payments reduce the balance."""
        if deleted:
            return InvoiceStatus.DELETED
        if voided:
            return InvoiceStatus.VOIDED
        if balance <= 0:
            return InvoiceStatus.PAID
        if balance < total:
            return InvoiceStatus.PARTIAL
        return InvoiceStatus.OPEN
