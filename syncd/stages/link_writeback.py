"""Link write-back: payment links go onto QBO invoices 30 per batch call, paced behind money.

Each batch is one effect (``qbo.invoice_links``) whose payload is the batch's composition: the
invoice ids with the SyncToken and memo the pull stored. It is written in the ledger before the
batch is sent, so a crash and retry resends exactly the same batch under the same ``requestid``
(QBO replays its answer). No read per invoice: only an invoice whose SyncToken went stale is
re-read, alone. Batches are spaced so bulk work never takes the budget money effects need.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import QboEntryRef
from syncd.errors import TransientError
from syncd.ports.quickbooks import BATCHES_PER_MINUTE, BULK_RESERVE_BATCHES, WINDOW_SECONDS, LinkWrite
from syncd.store import effects, mirror
from syncd.store.effects import Claimed, EffectStatus
from syncd.store.models import Effect, InvoiceRow
from syncd.worker import Done, handler

log = structlog.get_logger("syncd.links")

KIND = "qbo.invoice_links"
PER_BATCH = 30
# Link batches take at most the bulk share of QBO's 40 batch calls a minute.
SPACING = timedelta(seconds=WINDOW_SECONDS / (BATCHES_PER_MINUTE - BULK_RESERVE_BATCHES))


def batch_key(realm_id: str, invoice_ids: Sequence[str]) -> str:
    """Deterministic from the composition: the same invoices make the same batch and requestid."""
    digest = hashlib.sha256(",".join(invoice_ids).encode()).hexdigest()[:20]
    return f"qbo:links:{realm_id}:{digest}"


def _next_slot(session: Session, realm_id: str, now: datetime) -> datetime:
    latest = session.scalar(
        select(func.max(Effect.next_attempt_at)).where(
            Effect.kind == KIND, Effect.company_id == realm_id, Effect.status == EffectStatus.PENDING.value
        )
    )
    return now if latest is None or latest < now else latest + SPACING


def enqueue_links(session: Session, realm_id: str, invoices: Sequence[InvoiceRow], now: datetime) -> int:
    """Queue write-backs for ``invoices`` (in the publishing transaction), 30 per batch effect;
    returns the number of batches."""
    at = _next_slot(session, realm_id, now)
    batches = 0
    for first in range(0, len(invoices), PER_BATCH):
        chunk = invoices[first : first + PER_BATCH]
        ids = [row.qbo_id for row in chunk]
        effects.enqueue(
            session,
            key=batch_key(realm_id, ids),
            kind=KIND,
            company_id=realm_id,
            payload={
                "invoices": [
                    {"invoice_id": row.qbo_id, "sync_token": row.sync_token, "memo": row.memo}
                    for row in chunk
                ]
            },
            now=now,
            not_before=at,
        )
        at += SPACING
        batches += 1
    return batches


@handler(KIND)
def write_links(ctx: Context, effect: Claimed) -> Done:
    realm = effect.company_id
    raw = effect.payload.get("invoices") or []
    items = [
        LinkWrite(
            invoice_id=str(entry["invoice_id"]),
            sync_token=str(entry.get("sync_token") or "0"),
            memo=str(entry["memo"]) if entry.get("memo") is not None else None,
            url=ctx.links.url(realm, str(entry["invoice_id"])),
        )
        for entry in raw
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
        for ref in written:
            row = mirror.get_invoice(session, realm, ref.qbo_id)
            if row is not None and int(ref.sync_token or 0) >= int(row.sync_token or 0):
                row.sync_token = ref.sync_token

    return Done(remote_id=f"{len(written)}/{len(items)} links", apply=apply)
