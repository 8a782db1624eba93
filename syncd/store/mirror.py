"""The QBO mirror: customers and invoices upserted in pages, with the status changes they cause."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syncd import links
from syncd.domain import Customer, Invoice, InvoiceLine, InvoiceStatus
from syncd.store.models import CustomerRow, InvoiceRow

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Transition:
    """An invoice whose status or balance changed (``before`` None when it is new to the mirror)."""

    invoice_id: str
    before: InvoiceStatus | None
    after: InvoiceStatus
    balance_changed: bool = False


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


Row = TypeVar("Row", CustomerRow, InvoiceRow)


def _existing(session: Session, model: type[Row], realm: str, ids: Sequence[str]) -> dict[str, Row]:
    """The mirrored rows among ``ids``, loaded in chunks (one query per 500, not one per row)."""
    found: dict[str, Row] = {}
    for chunk in _chunks(ids):
        for row in session.scalars(select(model).where(model.company_id == realm, model.qbo_id.in_(chunk))):
            found[row.qbo_id] = row
    return found


def _held(session: Session, existing: dict[str, Row], model: type[Row], realm: str, qbo_id: str) -> Row:
    """The mirrored row for ``qbo_id``: the one in ``existing``, else a new one added to the session
    (and to ``existing``, so a page naming it twice updates one row)."""
    row = existing.get(qbo_id)
    if row is None:
        row = model(company_id=realm, qbo_id=qbo_id)
        session.add(row)
        existing[qbo_id] = row
    return row


def upsert_customers(session: Session, realm: str, customers: Sequence[Customer], *, now: datetime) -> None:
    ids = [c.qbo_id for c in customers]
    existing = _existing(session, CustomerRow, realm, ids)
    for c in customers:
        row = _held(session, existing, CustomerRow, realm, c.qbo_id)
        row.display_name = c.display_name
        row.email = c.email
        row.phone = c.phone
        row.mobile = c.mobile
        row.currency = c.currency
        row.active = c.active
        row.deleted = c.deleted
        row.updated_at = c.updated_at


def upsert_invoices(
    session: Session, realm: str, invoices: Sequence[Invoice], *, now: datetime
) -> list[Transition]:
    ids = [i.qbo_id for i in invoices]
    existing = _existing(session, InvoiceRow, realm, ids)
    transitions = []
    for inv in invoices:
        row = existing.get(inv.qbo_id)
        before = InvoiceStatus(row.status) if row is not None else None
        old_balance = row.balance if row is not None else None
        old_total = row.total if row is not None else None
        if row is not None and row.qbo_updated_at > inv.updated_at:
            continue  # an overlap re-read of an older version: keep the newer one
        row = _held(session, existing, InvoiceRow, realm, inv.qbo_id)
        row.doc_number = inv.doc_number
        row.customer_id = inv.customer_id
        row.customer_name = inv.customer_name
        row.currency = inv.currency
        row.txn_date = inv.txn_date
        row.due_date = inv.due_date
        row.total = inv.total
        row.balance = inv.balance
        row.tax = inv.tax
        row.lines = [
            {
                "description": ln.description,
                "quantity": str(ln.quantity),
                "unit_price": str(ln.unit_price),
                "amount": str(ln.amount),
            }
            for ln in inv.lines
        ]
        row.status = inv.status.value
        row.sync_token = inv.sync_token
        row.email = inv.email
        # The memo carries the payment link syncd wrote back: only its digest may be stored.
        row.memo = links.scrub(inv.memo)
        row.qbo_updated_at = inv.updated_at
        row.mirrored_at = now
        # A new total matters even where the balance stays (a payment applied in the same edit):
        # a Checkout Session made for the old invoice must not stay payable.
        moved = (old_balance is not None and old_balance != inv.balance) or (
            old_total is not None and old_total != inv.total
        )
        if before != inv.status or moved:
            transitions.append(Transition(inv.qbo_id, before, inv.status, balance_changed=moved))
    return transitions


def mark_deleted(
    session: Session, realm: str, invoice_ids: Sequence[str], *, now: datetime
) -> list[Transition]:
    out = []
    for chunk in _chunks(list(invoice_ids)):
        for row in session.scalars(
            select(InvoiceRow).where(InvoiceRow.company_id == realm, InvoiceRow.qbo_id.in_(chunk))
        ):
            if row.status != InvoiceStatus.DELETED.value:
                out.append(Transition(row.qbo_id, InvoiceStatus(row.status), InvoiceStatus.DELETED))
                row.status = InvoiceStatus.DELETED.value
                row.mirrored_at = now
    return out


def mark_customers_deleted(session: Session, realm: str, customer_ids: Sequence[str]) -> None:
    for chunk in _chunks(list(customer_ids)):
        session.execute(
            update(CustomerRow)
            .where(CustomerRow.company_id == realm, CustomerRow.qbo_id.in_(chunk))
            .values(deleted=True, active=False)
        )


def to_invoice(row: InvoiceRow) -> Invoice:
    return Invoice(
        qbo_id=row.qbo_id,
        doc_number=row.doc_number,
        customer_id=row.customer_id,
        customer_name=row.customer_name,
        currency=row.currency,
        txn_date=row.txn_date,
        due_date=row.due_date,
        total=row.total,
        balance=row.balance,
        tax=row.tax,
        lines=tuple(
            InvoiceLine(
                description=ln["description"],
                quantity=Decimal(ln["quantity"]),
                unit_price=Decimal(ln["unit_price"]),
                amount=Decimal(ln["amount"]),
            )
            for ln in row.lines
        ),
        status=InvoiceStatus(row.status),
        sync_token=row.sync_token,
        updated_at=row.qbo_updated_at,
        email=row.email,
        memo=row.memo,
    )


def get_invoice(session: Session, realm: str, invoice_id: str) -> InvoiceRow | None:
    return session.get(InvoiceRow, (realm, invoice_id))


def advance_sync_tokens(session: Session, realm: str, tokens: Mapping[str, str]) -> int:
    """Store the SyncToken QBO answered a write with for each invoice of ``tokens`` (id -> token),
    unless the stored one is newer (a pull saw a later edit); how many were stored. One read of the
    tokens and one multi-row update, no whole rows loaded: a link write-back records 30 at a time
    inside the worker's transaction, with payments waiting for the database turn."""
    if not tokens:
        return 0
    rows = session.execute(
        select(InvoiceRow.qbo_id, InvoiceRow.sync_token).where(
            InvoiceRow.company_id == realm, InvoiceRow.qbo_id.in_(list(tokens))
        )
    )
    stored = {qbo_id: token for qbo_id, token in rows}
    newer = [
        {"company_id": realm, "qbo_id": qbo_id, "sync_token": token}
        for qbo_id, token in tokens.items()
        if qbo_id in stored and int(token or 0) >= int(stored[qbo_id] or 0)
    ]
    if newer:
        session.execute(update(InvoiceRow), newer)  # by primary key, one statement for all
    return len(newer)


def get_customer(session: Session, realm: str, customer_id: str) -> CustomerRow | None:
    return session.get(CustomerRow, (realm, customer_id))
