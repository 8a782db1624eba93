"""Link write-back: payment links go onto QBO invoices 30 per batch call, paced behind money.

Each batch is one effect (``qbo.invoice_links``) whose payload is the batch's composition: the
invoice ids with the SyncToken and memo the pull stored. It is written in the ledger before the
batch is sent, so a crash and retry resends exactly the same batch under the same ``requestid``
(QBO replays its answer). No read per invoice: only an invoice whose SyncToken went stale is
re-read, alone. Batches are spaced so bulk work never takes the budget money effects need.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.catalog.payloads import InvoiceLink, InvoiceLinks, LinkItem
from syncd.context import Context
from syncd.domain import QboEntryRef
from syncd.errors import TransientError
from syncd.ports.quickbooks import (
    BATCH_ITEMS,
    BATCHES_PER_MINUTE,
    BULK_RESERVE_BATCHES,
    WINDOW_SECONDS,
    LinkWrite,
)
from syncd.store import effects, mirror
from syncd.store.effects import Claimed, EffectStatus
from syncd.store.models import Effect, InvoiceRow
from syncd.worker import Done

log = structlog.get_logger("syncd.links")

# Link batches take at most the bulk share of QBO's 40 batch calls a minute.
SPACING = timedelta(seconds=WINDOW_SECONDS / (BATCHES_PER_MINUTE - BULK_RESERVE_BATCHES))


def _next_slot(session: Session, realm_id: str, now: datetime) -> datetime:
    latest = session.scalar(
        select(func.max(Effect.next_attempt_at)).where(
            Effect.kind == EffectKind.QBO_INVOICE_LINKS,
            Effect.company_id == realm_id,
            Effect.status == EffectStatus.PENDING.value,
        )
    )
    return now if latest is None or latest < now else latest + SPACING


def enqueue_links(session: Session, realm_id: str, invoices: Sequence[InvoiceRow], now: datetime) -> int:
    """Queue write-backs for ``invoices`` (in the publishing transaction), 30 per batch effect;
    returns the number of batches."""
    at = _next_slot(session, realm_id, now)
    batches = 0
    for first in range(0, len(invoices), BATCH_ITEMS):
        chunk = invoices[first : first + BATCH_ITEMS]
        batch = InvoiceLinks(
            invoices=tuple(LinkItem(row.qbo_id, sync_token=row.sync_token, memo=row.memo) for row in chunk)
        )
        effects.enqueue(session, batch, company_id=realm_id, now=now, not_before=at)
        at += SPACING
        batches += 1
    return batches


def write_links(ctx: Context, effect: Claimed) -> Done:
    realm = effect.company_id
    items = [
        LinkWrite(
            invoice_id=entry.invoice_id,
            sync_token=entry.sync_token or "0",
            memo=entry.memo,
            url=ctx.links.url(realm, entry.invoice_id),
        )
        for entry in InvoiceLinks.of(effect).invoices
    ]
    results = ctx.qbo(realm).set_invoice_links(items, request_id=effect.key)
    transient = [r for r in results if isinstance(r, TransientError)]
    if transient:
        # Retried as a unit: the same batch under the same requestid, which QBO replays.
        raise transient[0]
    written = [r for r in results if isinstance(r, QboEntryRef)]
    for item, result in zip(items, results, strict=True):
        if not isinstance(result, QboEntryRef):
            log.warning("link.not_written", company=realm, invoice=item.invoice_id, error=str(result))

    def apply(session: Session) -> None:
        mirror.advance_sync_tokens(session, realm, {ref.qbo_id: ref.sync_token for ref in written})

    return Done(remote_id=f"{len(written)}/{len(items)} links", apply=apply)


def write_link(ctx: Context, effect: Claimed) -> Done:
    """One portal link written back on its own (effects queued before link batches)."""
    invoice_id = InvoiceLink.of(effect).invoice_id
    with ctx.db.transaction() as session:
        inv = mirror.get_invoice(session, effect.company_id, invoice_id)
        if inv is None or inv.status not in ("open", "partial"):
            return Done(remote_id="skipped:not-payable")
    url = ctx.links.url(effect.company_id, invoice_id)
    entry = ctx.qbo(effect.company_id).set_invoice_link(invoice_id, url, request_id=effect.key)

    def apply(session: Session) -> None:
        row = mirror.get_invoice(session, effect.company_id, invoice_id)
        if row is not None and int(entry.sync_token or 0) >= int(row.sync_token or 0):
            row.sync_token = entry.sync_token

    return Done(remote_id=entry.qbo_id, apply=apply)
