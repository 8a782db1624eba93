"""The collections-agency export: every invoice of the accounts past the last reminder step that
owe at least ``agency_above`` overdue, with the reminders sent and the promises recorded."""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy import select

from syncd.context import Context
from syncd.stages.notify import local_now
from syncd.store import collections, mirror
from syncd.store.models import Effect, PaymentPromise

COLUMNS = (
    "customer_id",
    "customer_name",
    "email",
    "phone",
    "invoice_number",
    "invoice_date",
    "due_date",
    "days_overdue",
    "balance",
    "currency",
    "reminders_sent",
    "last_reminder",
    "promises",
    "collector",
)


def agency_export(ctx: Context, realm_id: str, out: TextIO) -> int:
    """Write the CSV to ``out``; returns how many accounts it holds (none when ``agency_above`` is 0)."""
    threshold = ctx.settings.company(realm_id).collections.agency_above
    today = local_now(ctx, realm_id).date()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    if threshold <= 0:
        return 0
    accounts = 0
    with ctx.db.transaction() as session:
        for account in collections.escalated(session, realm_id):
            invoices = collections.overdue(session, realm_id, account.customer_id, today)
            if sum(i.balance for i in invoices) < threshold:
                continue
            accounts += 1
            customer = mirror.get_customer(session, realm_id, account.customer_id)
            sent = sorted(
                effect.created_at
                for effect in session.scalars(
                    select(Effect).where(
                        Effect.company_id == realm_id,
                        Effect.key.like(f"email:dunning:{realm_id}:{account.customer_id}:%"),
                        Effect.done_at.is_not(None),
                    )
                )
            )
            promises = "; ".join(
                f"{p.amount} by {p.promised_on.isoformat()} ({p.status})"
                for p in session.scalars(
                    select(PaymentPromise)
                    .where(
                        PaymentPromise.company_id == realm_id,
                        PaymentPromise.customer_id == account.customer_id,
                    )
                    .order_by(PaymentPromise.id)
                )
            )
            for invoice in invoices:
                due = invoice.due_date
                writer.writerow(
                    (
                        account.customer_id,
                        _cell(customer.display_name if customer else ""),
                        _cell(customer.email or "" if customer else ""),
                        _cell(customer.phone or "" if customer else ""),
                        _cell(invoice.doc_number),
                        invoice.txn_date.isoformat(),
                        due.isoformat() if due else "",
                        (today - due).days if due else "",
                        str(invoice.balance),
                        invoice.currency,
                        len(sent),
                        sent[-1].date().isoformat() if sent else "",
                        promises,
                        account.collector or "",
                    )
                )
    return accounts


def _cell(text: str) -> str:
    """QBO text as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
