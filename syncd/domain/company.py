"""Facts about a QBO company and a batch of changes pulled from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from syncd.domain.customers import Customer
from syncd.domain.invoices import Invoice


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """Read once per company: name, home currency and timezone for sending hours."""

    realm_id: str
    name: str
    home_currency: str
    timezone: str | None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class QboPaymentState:
    """A Payment as a CDC answer reported it: deleted ones carry their id only."""

    qbo_id: str
    deleted: bool = False
    voided: bool = False
    total: Decimal = Decimal(0)
    invoice_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QboChanges:
    """What one pull returned. ``as_of`` is the cursor to store once these rows are saved;
    ``skipped`` counts malformed rows left out; ``truncated`` says a CDC answer hit its row cap,
    so it may hide changes (mirror everything again)."""

    invoices: tuple[Invoice, ...] = ()
    customers: tuple[Customer, ...] = ()
    deleted_invoice_ids: tuple[str, ...] = ()
    deleted_customer_ids: tuple[str, ...] = ()
    payment_ids: tuple[str, ...] = ()
    payments: tuple[QboPaymentState, ...] = ()
    as_of: datetime | None = None
    skipped: int = 0
    truncated: bool = False
