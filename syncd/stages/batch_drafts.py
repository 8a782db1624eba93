"""What each money entry of a batch is written as: its draft, worked out before the batch is
persisted (the reads a Payment needs: Stripe's intent, and one invoice query for the whole batch),
and what recording its answer needs."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import structlog

from syncd.catalog import EffectKind
from syncd.catalog.payloads import QboPayment
from syncd.catalog.payloads_batch import BatchMember, dump
from syncd.context import Context
from syncd.domain import Invoice, QboEntryRef, QboPaymentBooked, QboPurchaseDraft
from syncd.errors import SyncdError
from syncd.stages.books import charges
from syncd.stages.books.fees import FeeFacts, fee_facts
from syncd.stages.reconcile import ChargeFacts, charge_facts
from syncd.store.effects import Claimed
from syncd.worker import PARALLEL

log = structlog.get_logger("syncd.batching")


Prepared = tuple[Claimed, BatchMember | None]


def prepare(ctx: Context, realm: str, candidates: Sequence[Claimed]) -> list[Prepared]:
    """Each candidate's draft and what recording its answer needs (None: it goes alone: nothing to
    write, booked already, or a read failed; its own handler then does and reports it)."""

    def facts_of(effect: Claimed) -> ChargeFacts | FeeFacts | None:
        try:
            if effect.kind == EffectKind.QBO_PAYMENT:
                stored = QboPayment.of(effect)
                found = charge_facts(ctx, effect) if stored.round == 0 and stored.refused == 0 else None
                return found if isinstance(found, ChargeFacts) else None
            return fee_facts(ctx, effect)
        except Exception:  # its own handler meets it again and reports it
            log.info("batch.prepare_failed", company=realm, effect=effect.key, exc_info=True)
            return None

    # Each read runs in this thread's context (money first, urgent): a pool thread starts without it.
    contexts = [contextvars.copy_context() for _ in candidates]
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(candidates)), thread_name_prefix="batch") as pool:
        facts = list(pool.map(lambda held, effect: held.run(facts_of, effect), contexts, candidates))
    invoice_ids = sorted({i for f in facts if isinstance(f, ChargeFacts) for i in f.invoice_ids})
    current: list[Invoice] | None = []
    if invoice_ids:
        try:
            current = ctx.qbo(realm).get_invoices(invoice_ids)  # one read for the whole batch
        except SyncdError as exc:
            log.info("batch.invoices_unread", company=realm, error=str(exc))
            current = None
    out: list[Prepared] = []
    for effect, found in zip(candidates, facts, strict=True):
        if isinstance(found, ChargeFacts):
            out.append((effect, None if current is None else payment_member(effect, found, current)))
        elif isinstance(found, FeeFacts) and found.draft is not None:
            out.append((effect, fee_member(effect, found, found.draft)))
        else:
            out.append((effect, None))
    return out


def payment_member(effect: Claimed, facts: ChargeFacts, current: Sequence[Invoice]) -> BatchMember:
    mine = [inv for inv in current if inv.qbo_id in facts.invoice_ids]
    lines, _ = charges.allocate_open(facts.received, facts.invoice_ids, mine)
    changed = charges.stale(facts.expected, charges.Booked(_unbooked(), tuple(mine)))
    txn = facts.txn
    finish = {
        "payment_key": facts.key,
        "intent_id": facts.intent.id,
        "txn_id": txn.id if txn else None,
        "received": facts.received,
        "currency": facts.currency,
        "changed": changed,
    }
    return BatchMember(effect.key, effect.kind, dump(facts.draft(lines)), dump(finish))


def _unbooked() -> QboPaymentBooked:
    return QboPaymentBooked(QboEntryRef("Payment", "", ""), (), Decimal(0))


def fee_member(effect: Claimed, facts: FeeFacts, draft: QboPurchaseDraft) -> BatchMember:
    finish = {
        "txn": facts.txn,
        "fee": facts.fee,
        "entries": [[e.role, e.entity, e.qbo_id, e.clearing] for e in facts.entries],
    }
    return BatchMember(effect.key, effect.kind, dump(draft), dump(finish))
