"""Rows as the store keeps them (invoices, payments, email effects, money movements), for the
report tests that seed a company by hand and compute the expected figures themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from syncd.domain.payments import PaymentStatus
from syncd.store.models import Company, Effect, InvoiceRow, MoneyMovement, PaymentRow

REALM = "9130350000000001"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def company(realm: str = REALM, timezone: str | None = "America/New_York") -> Company:
    return Company(realm_id=realm, name="Northwind", timezone=timezone, created_at=T0)


def invoice(
    qbo_id: str,
    *,
    customer: str = "7",
    name: str = "Blue Bottle Bakery",
    currency: str = "USD",
    total: str = "100.00",
    balance: str | None = None,
    txn: date = date(2026, 1, 1),
    due: date | None = None,
    status: str = "open",
    updated: datetime = T0,
    realm: str = REALM,
    number: str | None = None,
) -> InvoiceRow:
    """An invoice; ``balance`` defaults to the total (nothing paid), ``number`` to ``D<qbo_id>``."""
    return InvoiceRow(
        company_id=realm,
        qbo_id=qbo_id,
        doc_number=number if number is not None else f"D{qbo_id}",
        customer_id=customer,
        customer_name=name,
        currency=currency,
        txn_date=txn,
        due_date=due,
        total=Decimal(total),
        balance=Decimal(balance if balance is not None else total),
        tax=Decimal(0),
        lines=[],
        status=status,
        sync_token="0",
        qbo_updated_at=updated,
        mirrored_at=updated,
    )


def owed(
    qbo_id: str, customer: str, balance: str, due: date, *, number: str, updated: datetime
) -> InvoiceRow:
    """An unpaid invoice of ``customer`` owing ``balance``, issued 30 days before it fell ``due``."""
    return invoice(
        qbo_id,
        customer=customer,
        name="",
        total=balance,
        txn=due - timedelta(days=30),
        due=due,
        updated=updated,
        number=number,
    )


def payment(
    key: str,
    invoices: list[str],
    amount: str,
    *,
    at: datetime,
    started: datetime | None = None,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    currency: str = "USD",
    method: str | None = None,
    offered: list[str] | None = None,
    customer: str = "7",
    realm: str = REALM,
) -> PaymentRow:
    """A payment attempt started at ``started`` (default ``at``) that reached ``status`` at ``at``."""
    return PaymentRow(
        key=key,
        company_id=realm,
        customer_id=customer,
        invoice_ids=invoices,
        amount=Decimal(amount),
        currency=currency,
        status=status.value,
        method=method,
        offered_methods=offered,
        created_at=started or at,
        updated_at=at,
    )


def effect(
    key: str,
    kind: str,
    payload: dict[str, object],
    *,
    at: datetime,
    status: str = "done",
    attempts: int = 1,
    held: datetime | None = None,
    realm: str = REALM,
) -> Effect:
    """An effect row created at ``at`` (and done then, when ``status`` is done)."""
    return Effect(
        key=key,
        kind=kind,
        priority=5,
        company_id=realm,
        payload=payload,
        status=status,
        attempts=attempts,
        next_attempt_at=at,
        created_at=at,
        done_at=at if status == "done" else None,
        held_at=held,
    )


def movement(
    ident: str, net: str, *, at: datetime, currency: str = "usd", entries: dict[str, str] | None = None
) -> MoneyMovement:
    return MoneyMovement(
        id=ident,
        company_id=REALM,
        type="charge",
        source_id=f"ch_{ident}",
        amount=Decimal(net),
        fee=Decimal(0),
        net=Decimal(net),
        currency=currency,
        created=at,
        qbo_entries=entries or {},
    )
