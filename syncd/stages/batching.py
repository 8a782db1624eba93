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
queued only once its Payment is recorded, so they never share one either).

When (``when``): 30 due go at once. A lone entry (nothing else queued in the last ``window``
seconds) goes alone at once. In a flow (something queued in the last ``window`` seconds) fewer
than 30 wait for it to pause or for the oldest to have waited ``HOLD`` (counted from the last batch
when one went since: what a full batch left behind waits for the next), the pass looking again
after each wait: a burst fills whole batches and its tail goes once it ends. Otherwise they go
once the oldest has waited ``window``. Once three quarters of money's share of QBO's 40 batch
calls a minute are spent, the company's last batch must also be ``SPACING`` seconds old (the pace
that can go on for ever within that share); after ``BURST`` batches in a minute (38 while no
link write-back ran in it) only full batches go: QBO's batch budget is what the rest wait for.
When link write-backs hold the batch calls money has not used, due entries go alone at once:
money never waits for bulk work.
Refunds, voids, transfers and deposits stay single: each needs a read first (the Payment to
reduce, the payout's lines) or is rare.
Each member's draft: ``syncd.stages.batch_drafts``; performing a batch: ``syncd.stages.batch_writes``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import func, select

from syncd.catalog import EffectKind
from syncd.catalog.payloads_batch import EntryBatch
from syncd.context import Context
from syncd.ports.quickbooks import (
    BATCH_ITEMS,
    BATCHES_PER_MINUTE,
    BULK_RESERVE_BATCHES,
    WINDOW_SECONDS,
    money_first,
)
from syncd.stages.batch_drafts import prepare
from syncd.store import effects
from syncd.store.effects import Claimed, LeaseLost
from syncd.store.models import Effect
from syncd.store.turnstile import urgent
from syncd.worker import PARALLEL, run_effects

log = structlog.get_logger("syncd.batching")

BATCHABLE = (EffectKind.QBO_PAYMENT.value, EffectKind.QBO_FEE.value)
SMALLEST = 2  # a batch of one is a single write
# What money has of QBO's 40 batch calls a minute while link write-backs take their share (32).
BURST = BATCHES_PER_MINUTE - BULK_RESERVE_BATCHES
# Left of the 40 when no link write-back ran in the last minute: a re-pull's batch calls of queries.
READS_RESERVE = 2
# Batches fewer than 30 wait to be this far apart: at that pace they could go on for ever
# without spending more than money's share, so a steady flow never runs into QBO's limit.
SPACING = WINDOW_SECONDS / BURST
# Small batches are spaced only once this many went in the last minute: a few seconds of payments
# (a run of 50 at 5 a second) need no pacing, while a flow that goes on is paced before the burst.
PACED_FROM = BURST * 3 // 4
# The longest an entry waits for a flow to pause before it goes with what is due.
HOLD = 2.0
ROUNDS = 8  # looks a pass takes at a flow before it sends what is due anyway
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


@dataclass(frozen=True, slots=True)
class Backlog:
    """A company's money entries as one pass of the gatherer finds them, and its batch budget."""

    due: int  # what ``claim`` would hand out now
    waited: float  # seconds since the oldest of them came due
    queued: int  # entries queued in the last ``window`` seconds (any state): what is coming
    batches: int  # entry batches composed in the last minute
    since_batch: float | None  # seconds since the last of them (None: none in the last minute)
    bulk: int = 0  # link write-back batch calls made in the last minute
    since_queued: float | None = None  # seconds since the newest entry was queued (None: not lately)

    @property
    def share(self) -> int:
        """Money's batch calls this minute: all but the reads' reserve while no link write-back
        ran in the last minute (the limiter keeps one that starts within QBO's 40), else ``BURST``."""
        return BURST if self.bulk else BATCHES_PER_MINUTE - READS_RESERVE

    @property
    def budget_taken(self) -> bool:
        """Bulk work holds the batch calls money has not used: a batch would wait for it."""
        return self.batches < BURST and self.batches + self.bulk >= BATCHES_PER_MINUTE


def when(backlog: Backlog, *, window: float, cap: int = BATCH_ITEMS) -> float | None:
    """Seconds until the due entries go (0: now), or None: they wait for the next pass."""
    if backlog.due == 0:
        return None
    if backlog.due >= cap or backlog.budget_taken:
        return 0.0  # (budget taken: they go alone, money never waits for bulk work)
    if backlog.batches >= backlog.share:
        return None  # a burst: only full batches until QBO's batch budget slides
    since = backlog.since_batch
    spaced = max(0.0, SPACING - since) if since is not None and backlog.batches >= PACED_FROM else 0.0
    if backlog.due == 1 and backlog.queued <= 1 and spaced == 0.0:
        return 0.0  # alone, and nothing coming to share a batch with
    # In a flow they wait for it to pause (nothing queued for ``window`` seconds), or for the
    # oldest to have waited ``HOLD``: a burst fills whole batches, its tail goes once it ends.
    # The hold counts from when they could last have gone: the ones a full batch just left behind
    # wait for the next to fill, not go at once because the burst had them waiting before.
    flowing = backlog.since_queued is not None and backlog.since_queued < window
    held = backlog.waited if since is None else min(backlog.waited, since)
    if flowing and held < HOLD:
        ripe = max(min(window - (backlog.since_queued or 0.0), HOLD - held), spaced)
    else:
        ripe = max(window - backlog.waited, spaced)
    if ripe <= 0:
        return 0.0
    return ripe if ripe <= window else None


class Pace:
    """Per process: one gatherer at a time per company."""

    def __init__(self, patience: float = 2.0) -> None:
        self._patience = patience
        self._lock = threading.Lock()
        self._turns: dict[str, threading.Lock] = {}

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


PACE = Pace()


def gather(
    ctx: Context,
    realm: str,
    *,
    owner: str,
    window: float,
    cap: int = BATCH_ITEMS,
    at_least: int = SMALLEST,
    sleep: Callable[[float], None] = time.sleep,
    pace: Pace = PACE,
) -> Gathered:
    """One pass over ``realm``'s due entry effects (nothing when another pass is at it): when
    ``when`` says they go, claimed (30 at most, oldest first) and persisted as one batch (one
    alone); when it says they go within ``window``, after sleeping that long; else nothing."""
    # Its transactions and QBO reads are money's: they go before first syncs and link write-backs
    # (in the general worker too), or every entry of the company waits behind bulk work.
    with pace.turn(realm) as mine, urgent(), money_first():
        if not mine:
            return Gathered()
        for _ in range(ROUNDS):
            found = backlog(ctx, realm, window)
            wait = when(found, window=window, cap=cap)
            if wait is None:
                return Gathered()
            if wait <= 0:
                break
            sleep(wait)  # then look again: more may have come, or the flow paused
        claimed = effects.claim(
            ctx.db, owner=owner, now=ctx.clock(), limit=cap, company_id=realm, kinds=BATCHABLE
        )
        if found.budget_taken:
            return Gathered(singles=tuple(claimed))
        return compose(ctx, realm, claimed, at_least=at_least)


def backlog(ctx: Context, realm: str, window: float) -> Backlog:
    now = ctx.clock()
    with ctx.db.transaction() as session:
        due, oldest = effects.ready(session, now=now, company_id=realm, kinds=BATCHABLE)
        queued, newest = session.execute(
            select(func.count(), func.max(Effect.created_at)).where(
                Effect.company_id == realm,
                Effect.kind.in_(BATCHABLE),
                Effect.created_at >= now - timedelta(seconds=window),
            )
        ).one()
        bulk = session.scalar(
            select(func.count()).where(
                Effect.company_id == realm,
                Effect.kind == EffectKind.QBO_INVOICE_LINKS.value,
                Effect.done_at >= now - timedelta(seconds=WINDOW_SECONDS),
            )
        )
        batches, last = session.execute(
            select(func.count(), func.max(Effect.created_at)).where(
                Effect.company_id == realm,
                Effect.kind == EffectKind.QBO_ENTRY_BATCH.value,
                Effect.created_at >= now - timedelta(seconds=WINDOW_SECONDS),
            )
        ).one()
    return Backlog(
        due=due,
        waited=0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()),
        queued=int(queued or 0),
        batches=int(batches or 0),
        since_batch=None if last is None else max(0.0, (now - last).total_seconds()),
        bulk=int(bulk or 0),
        since_queued=None if newest is None else max(0.0, (now - newest).total_seconds()),
    )


def compose(ctx: Context, realm: str, claimed: Sequence[Claimed], *, at_least: int = SMALLEST) -> Gathered:
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
    with the rest, and no entry effect is claimed on its own meanwhile. A round that sent entries
    and left others due counts as ``limit`` (a draining caller comes back at once)."""
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
    if gathered.batches or gathered.singles:
        # Entries came due while these went (the fees of the Payments just recorded, payments
        # meanwhile): the round counts as full, so a draining lane comes back for them at once
        # rather than a wake or a worker interval later.
        with urgent(), ctx.db.transaction() as session:
            due, _ = effects.ready(session, now=ctx.clock(), company_id=realm_id, kinds=BATCHABLE)
        if due:
            return max(done, limit)
    return done
