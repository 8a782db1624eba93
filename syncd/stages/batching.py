"""Money entries written to QBO in batch calls of up to 30, each batch's composition in the ledger first.

QBO's ``requestid`` covers a whole batch call, so a batch retried with another composition could
write an entry twice. Here the gatherer takes a company's due entry effects (Payments and fee
Purchases, each keeping its own row and key), works out each one's draft (the reads a Payment
needs: Stripe's intent, and one invoice query for the whole batch), and writes ONE ``qbo.entry_batch``
effect listing the members and their drafts, pinning the members to it, in one transaction before
any write. Performing the batch sends exactly that composition under the batch's key; a crash and
retry resends it and QBO answers from its idempotency record. Each answer is recorded on its member
as its own handler would (``reconcile.payment_recorded``, ``fees.fee_recorded``); a member QBO
refused (so provably not created) goes back to its own single write, and one whose fate QBO left
unknown is failed with what QBO answered, never written again on its own.

What is batched: an entry effect on its first attempt (one tried alone before may have reached QBO
under its own ``requestid``), at most one of a serial group per batch (``claim`` hands out only the
first due effect of a group, so one customer's entries keep their order across batches; a fee is
queued only once its Payment is recorded, so they never share one either). A full batch (30) goes
at once; fewer wait while a batch of the company is under way, then make a batch when no small one
went in the last ``SMALL_SPACING`` seconds; otherwise at least ``AT_LEAST`` wait for a full batch
or that spacing (QBO allows 500 requests but 40 batch calls a minute: fewer than 13 entries in a
batch spend the scarcer budget faster than writing them one by one), and fewer go alone at once.
Refunds, voids, transfers and deposits stay single: each needs a read first (the Payment to
reduce, the payout's lines) or is rare.
Performing a batch: ``syncd.stages.batch_writes``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.catalog.payloads import QboPayment
from syncd.catalog.payloads_batch import BatchMember, EntryBatch, dump
from syncd.context import Context
from syncd.domain import Invoice, QboEntryRef, QboPaymentBooked, QboPurchaseDraft
from syncd.errors import SyncdError
from syncd.ports.quickbooks import BATCHES_PER_MINUTE, BULK_RESERVE_BATCHES, WINDOW_SECONDS
from syncd.stages.books import charges
from syncd.stages.books.fees import FeeFacts, fee_facts
from syncd.stages.reconcile import ChargeFacts, charge_facts
from syncd.store import effects
from syncd.store.effects import Claimed, EffectStatus, LeaseLost
from syncd.store.models import Effect
from syncd.worker import PARALLEL, run_effects

log = structlog.get_logger("syncd.batching")

BATCHABLE = (EffectKind.QBO_PAYMENT.value, EffectKind.QBO_FEE.value)
PER_BATCH = 30  # QBO's most items in one batch call
AT_LEAST = 13  # ceil(500 requests / 40 batch calls a minute)
SMALLEST = 2  # a batch of one is a single write
# Between two batches of fewer than 30 (24 a minute): with the link write-backs' share (paced to
# 32 a minute, behind money) QBO's 40 batch calls a minute are never overrun by small batches.
SMALL_SPACING = 2.5
UNDER_WAY = timedelta(seconds=10)
# A burst of money: this many entry batches in the last minute and fewer than 30 wait for a full
# batch, as the batch calls left are what limits how fast entries go (what bulk work leaves money).
BURST = BATCHES_PER_MINUTE - BULK_RESERVE_BATCHES
SINGLE = "single"  # member payload: given back by a batch, written alone from now on
IN_BATCH = "batch"  # member payload: the key of the batch it is pinned to
PINNED = timedelta(days=3650)  # a member's lease while its batch holds it: until the batch records it


def pin_owner(batch_key: str) -> str:
    return f"batch:{batch_key}"


@dataclass(frozen=True, slots=True)
class Gathered:
    """What one pass of the gatherer made: the batches it persisted (keys) and the effects it
    claimed that go alone."""

    batches: tuple[str, ...] = ()
    singles: tuple[Claimed, ...] = ()


def batchable(effect: Claimed) -> bool:
    """An entry effect on its first attempt that no batch gave back."""
    return effect.kind in BATCHABLE and effect.attempts == 1 and not effect.payload.get(SINGLE)


class Pace:
    """Per process: one gatherer at a time per company, and how often a batch of fewer than 30 may
    go (``SMALL_SPACING``), so small batches never spend the 40 batch calls a minute QBO allows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, patience: float = 2.0) -> None:
        self._clock = clock
        self._patience = patience
        self._lock = threading.Lock()
        self._turns: dict[str, threading.Lock] = {}
        self._small: dict[str, float] = {}

    @contextmanager
    def turn(self, realm: str) -> Iterator[bool]:
        """True when this caller gathers for ``realm`` now: it waits up to ``patience`` seconds
        for another pass to finish (a lane that skipped would come back only a worker interval
        later, and its payments with it)."""
        with self._lock:
            lock = self._turns.setdefault(realm, threading.Lock())
        mine = lock.acquire(timeout=self._patience) if self._patience > 0 else lock.acquire(blocking=False)
        try:
            yield mine
        finally:
            if mine:
                lock.release()

    def small_ok(self, realm: str) -> bool:
        with self._lock:
            last = self._small.get(realm)
            return last is None or self._clock() - last >= SMALL_SPACING

    def small_made(self, realm: str) -> None:
        with self._lock:
            self._small[realm] = self._clock()


PACE = Pace()


def gather(
    ctx: Context,
    realm: str,
    *,
    owner: str,
    window: float,
    at_least: int = AT_LEAST,
    cap: int = PER_BATCH,
    sleep: Callable[[float], None] = time.sleep,
    pace: Pace = PACE,
) -> Gathered:
    """One pass over ``realm``'s due entry effects (nothing when another pass is at it):

    - ``cap`` due: claimed and persisted as one batch at once;
    - fewer, in a burst (``BURST`` batches in the last minute): left to gather (they would wait
      for QBO's batch budget anyway);
    - fewer while a batch of the company is under way: at least ``at_least`` are left to gather
      (the pass that sends it comes back for them), fewer go alone at once;
    - fewer, when no batch of fewer than 30 went in the last ``SMALL_SPACING`` seconds: when
      several, wait up to ``window`` seconds from the oldest one's due time for more, then claim
      them all as one batch (two or more; one goes alone);
    - fewer, otherwise: at least ``at_least`` make a batch (it spends less of QBO's budget than
      writing them one by one); fewer go alone at once.
    """
    with pace.turn(realm) as mine:
        if not mine:
            return Gathered()
        now = ctx.clock()
        with ctx.db.transaction() as session:
            count, oldest = effects.ready(session, now=now, company_id=realm, kinds=BATCHABLE)
            under_way = count < cap and _batch_under_way(session, realm, now)
            burst = count < cap and _recent_batches(session, realm, now) >= BURST
        small_ok = pace.small_ok(realm) and not under_way
        if count == 0 or burst or (under_way and count >= at_least):
            return Gathered()
        if 1 < count < cap and oldest is not None and small_ok:
            wait = (oldest - now).total_seconds() + window
            if wait > 0:
                sleep(min(wait, window))
        claimed = effects.claim(
            ctx.db, owner=owner, now=ctx.clock(), limit=cap, company_id=realm, kinds=BATCHABLE
        )
        small = len(claimed) < cap
        least = min(at_least, SMALLEST) if small_ok else (cap if under_way else at_least)
        got = compose(ctx, realm, claimed, at_least=least)
        if got.batches and small:
            pace.small_made(realm)
        return got


def _recent_batches(session: Session, realm: str, now: datetime) -> int:
    """Entry batches the company composed in the last minute (QBO's window)."""
    return int(
        session.scalar(
            select(func.count()).where(
                Effect.company_id == realm,
                Effect.kind == EffectKind.QBO_ENTRY_BATCH.value,
                Effect.created_at >= now - timedelta(seconds=WINDOW_SECONDS),
            )
        )
        or 0
    )


def _batch_under_way(session: Session, realm: str, now: datetime) -> bool:
    """A batch of the company is due or being sent (not one waiting out a backoff)."""
    found = session.scalar(
        select(Effect.id)
        .where(
            Effect.company_id == realm,
            Effect.kind == EffectKind.QBO_ENTRY_BATCH.value,
            Effect.status == EffectStatus.PENDING.value,
            Effect.next_attempt_at <= now + UNDER_WAY,
        )
        .limit(1)
    )
    return found is not None


def compose(ctx: Context, realm: str, claimed: Sequence[Claimed], *, at_least: int = AT_LEAST) -> Gathered:
    """Persist the batchable ones of ``claimed`` (ours) as one batch effect, members pinned to it,
    in one transaction; the rest (and all, when fewer than ``at_least`` can go) go alone."""
    candidates = [e for e in claimed if batchable(e)]
    if len(candidates) < at_least:
        return Gathered(singles=tuple(claimed))
    prepared = prepare(ctx, realm, candidates)
    members = [(effect, member) for effect, member in prepared if member is not None]
    if len(members) < at_least:
        return Gathered(singles=tuple(claimed))
    alone = tuple(e for e in claimed if all(e.key != m.key for _, m in members))
    batch = EntryBatch.of_members([m for _, m in members])
    key = batch.key(realm)
    now = ctx.clock()
    try:
        with ctx.db.transaction() as session:
            if not effects.enqueue(session, batch, company_id=realm, now=now):
                raise LeaseLost(key)  # this very composition was queued before: never reuse its key
            for effect, _ in members:
                effects.pin(session, effect, owner=pin_owner(key), until=now + PINNED, **{IN_BATCH: key})
    except LeaseLost:
        log.warning("batch.not_composed", company=realm, batch=key)
        return Gathered(singles=tuple(claimed))
    log.info("batch.composed", company=realm, batch=key, entries=len(members))
    return Gathered(batches=(key,), singles=alone)


# -- drafts ----------------------------------------------------------------------------------------


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

    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(candidates)), thread_name_prefix="batch") as pool:
        facts = list(pool.map(facts_of, candidates))
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


# -- the worker with batching ----------------------------------------------------------------------


def run_effects_batched(
    ctx: Context,
    *,
    owner: str,
    realm_id: str | None = None,
    limit: int = 50,
    parallel: int = PARALLEL,
    kinds: Iterable[str] | None = None,
) -> int:
    """``worker.run_effects`` with the company's entry effects gathered into batches first (when
    ``[scheduler] batch_entries`` is on): the batches and the entries that go alone are performed
    with the rest, and no entry effect is claimed on its own meanwhile."""
    intervals = ctx.settings.intervals
    wanted = None if kinds is None else set(kinds)
    if (
        realm_id is None
        or not intervals.batch_entries
        or (wanted is not None and not wanted & set(BATCHABLE))
    ):
        return run_effects(ctx, owner=owner, realm_id=realm_id, limit=limit, parallel=parallel, kinds=kinds)
    gathered = gather(ctx, realm_id, owner=owner, window=intervals.batch_window_seconds)
    also = list(gathered.singles)
    for key in gathered.batches:
        found = effects.claim_key(ctx.db, key, owner=owner, now=ctx.clock())
        if found is not None:
            also.insert(0, found)
    run_kinds = None if kinds is None else [*kinds, EffectKind.QBO_ENTRY_BATCH.value]
    done = run_effects(
        ctx,
        owner=owner,
        realm_id=realm_id,
        limit=limit,
        parallel=parallel,
        kinds=run_kinds,
        exclude=BATCHABLE,
        also=also,
    )
    return done
