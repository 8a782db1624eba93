"""Pull: mirror a company's QBO customers and invoices, incrementally after the first run.

The cursor advances in the transaction that saves the rows it covers, is capped at the run's
start, and each incremental run re-reads an overlap window (older versions are ignored by the
mirror), so a crash at any point loses nothing and duplicates nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import InvoiceStatus, QboChanges
from syncd.stages import entries, hooks, text_consent
from syncd.store import cursors, mirror
from syncd.store.models import Company

log = structlog.get_logger("syncd.pull")

CURSOR = "qbo.changes"
OVERLAP = timedelta(minutes=2)
CDC_HORIZON = timedelta(days=29)  # QBO's CDC covers 30 days; older cursors re-pull in full
# Rows a first pull saves per transaction: on SQLite one transaction writes at a time, and a
# payment's few short ones wait at most one such part (a page of 1,000 rows held it ~1 s under load).
# The cursor moves only after the last page, so a crash between parts re-pulls in full.
SAVE_ROWS = 100


@dataclass(frozen=True, slots=True)
class PullResult:
    full: bool
    invoices: int
    customers: int
    transitions: int


def pull(ctx: Context, realm_id: str) -> PullResult:
    qbo = ctx.qbo(realm_id)
    started = ctx.clock()
    with ctx.db.transaction() as session:
        cursor = cursors.get(session, realm_id, CURSOR)
        company = session.get(Company, realm_id)
        needs_info = company is not None and company.home_currency is None
    if needs_info:
        info = qbo.company_info()
        with ctx.db.transaction() as session:
            row = session.get(Company, realm_id)
            if row is not None:
                row.home_currency = info.home_currency
                row.timezone = row.timezone or info.timezone
                row.name = row.name or info.name
    since = datetime.fromisoformat(cursor) if cursor else None
    if since is None or started - since > CDC_HORIZON:
        return _full(ctx, realm_id, started)
    changes = qbo.changes_since(since - OVERLAP, started)
    if changes.truncated:
        # CDC has no paging: a capped answer may hide changes, so mirror everything again.
        return _full(ctx, realm_id, started)
    if changes.skipped:
        log.warning("pull.skipped_rows", company=realm_id, rows=changes.skipped)
    with ctx.db.transaction() as session:
        moved = _save(ctx, session, realm_id, changes)
        as_of = min(changes.as_of or started, started)
        cursors.put(session, realm_id, CURSOR, max(as_of, since).isoformat(), now=started)
        _touch(session, realm_id, started)
    return PullResult(False, len(changes.invoices), len(changes.customers), moved)


def _full(ctx: Context, realm_id: str, started: datetime) -> PullResult:
    invoices = customers = moved = 0
    as_of: datetime | None = None
    for page in ctx.qbo(realm_id).initial_pull():
        if page.skipped:
            log.warning("pull.skipped_rows", company=realm_id, rows=page.skipped)
        for part in _parts(page):
            with ctx.db.transaction() as session:
                moved += _save(ctx, session, realm_id, part)
        invoices += len(page.invoices)
        customers += len(page.customers)
        as_of = page.as_of or as_of
    with ctx.db.transaction() as session:
        cursors.put(session, realm_id, CURSOR, min(as_of or started, started).isoformat(), now=started)
        _touch(session, realm_id, started)
    return PullResult(True, invoices, customers, moved)


def _parts(page: QboChanges, rows: int = SAVE_ROWS) -> Iterator[QboChanges]:
    """A full pull's page in parts of ``rows`` rows: its customers first, then its invoices, the
    last part with the page's deletions. A page with QBO Payments stays whole: the review of an
    entry deleted in QBO is made with the invoice it reopened (see ``_save``)."""
    if page.payments or len(page.customers) + len(page.invoices) <= rows:
        yield page
        return
    for i in range(0, len(page.customers), rows):
        yield QboChanges(customers=page.customers[i : i + rows])
    chunks = [page.invoices[i : i + rows] for i in range(0, len(page.invoices), rows)] or [()]
    for chunk in chunks[:-1]:
        yield QboChanges(invoices=chunk)
    yield dataclasses.replace(page, customers=(), invoices=chunks[-1])


def _save(ctx: Context, session: Session, realm_id: str, changes: QboChanges) -> int:
    now = ctx.clock()
    mirror.upsert_customers(session, realm_id, changes.customers, now=now)
    text_consent.attest_mobiles(ctx, session, realm_id, changes.customers, now=now)
    if changes.deleted_customer_ids:
        mirror.mark_customers_deleted(session, realm_id, changes.deleted_customer_ids)
    transitions = mirror.upsert_invoices(session, realm_id, changes.invoices, now=now)
    transitions += mirror.mark_deleted(session, realm_id, changes.deleted_invoice_ids, now=now)
    for t in transitions:
        if t.before is not None and t.before.payable and not t.after.payable:
            hooks.invoice_closed(ctx, session, realm_id, t.invoice_id, t.after)
        elif t.before in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED) and t.after.payable:
            hooks.invoice_reopened(ctx, session, realm_id, t.invoice_id)
        elif t.balance_changed and t.after.payable:
            hooks.invoice_rebalanced(ctx, session, realm_id, t.invoice_id)
    if changes.payments:
        # In the transaction that mirrors the invoice a deleted Payment reopened: no moment exists
        # in which the portal offers Pay for it before the review holds it back.
        entries.detect(ctx, session, realm_id, changes.payments)
    return len(transitions)


def _touch(session: Session, realm_id: str, now: datetime) -> None:
    row = session.get(Company, realm_id)
    if row is not None:
        row.last_pull_at = now
