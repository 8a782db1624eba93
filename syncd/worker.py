"""The effect worker: claims due effects, performs each under its key, records the result.

A handler performs one remote side effect idempotently (the key travels as QBO ``requestid``,
Stripe ``Idempotency-Key`` or email Message-ID) and returns a ``Done`` whose ``apply`` runs in the
same transaction that marks the effect done. Errors follow the one error tree: transient ones are
retried with exponential backoff and jitter, permanent ones are recorded and surfaced, auth errors
mark the company as waiting for a reconnect. One bad effect never stops the others.

What performs each kind comes from the catalog (``syncd.catalog``), resolved once per process.
A kind declared with ``on_held`` must not fail (a charge Stripe took must reach the books):
where another kind would fail for good, or after ``HOLD_AFTER`` transient attempts, or when the
company's connection is refused, it is *held* instead — kept pending, retried every
``MAX_BACKOFF`` until the cause clears, listed by ``syncd status`` and ``syncd failed``, and
``on_held`` tells staff the first time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import structlog
from sqlalchemy.orm import Session

from syncd.catalog import MONEY, SPECS, resolve
from syncd.companies import pause
from syncd.context import Context
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.ports.quickbooks import money_first
from syncd.retrying import Backoff
from syncd.store import effects
from syncd.store.effects import Claimed, LeaseLost
from syncd.store.turnstile import URGENT, urgent

log = structlog.get_logger("syncd.worker")

MAX_BACKOFF = timedelta(minutes=30)
MAX_TRANSIENT_ATTEMPTS = 25
HOLD_AFTER = 12  # transient attempts (about an hour of backoff) before a must-succeed is held
AUTH_RETRY = timedelta(minutes=15)
PARALLEL = 8


@dataclass(frozen=True, slots=True)
class Done:
    """What a performed effect produced: the remote id, and the local state change to commit."""

    remote_id: str | None = None
    apply: Callable[[Session], None] | None = None


Handler = Callable[[Context, Claimed], Done]
HeldHook = Callable[[Context, Session, Claimed, str], None]


@dataclass(frozen=True, slots=True)
class Performer:
    """How one kind is performed: its handler; for a kind that must not fail, the hook run (in a
    transaction) the first time it is held; and whether it is money, whose QBO requests go first."""

    handler: Handler
    on_held: HeldHook | None = None
    money: bool = False


Performers = Mapping[str, Performer]


@functools.cache
def performers() -> Performers:
    """Every catalog kind's performer, imported once per process: a handler that cannot be found
    stops the worker at its first run instead of failing that kind's effects one by one."""
    return {
        kind.value: Performer(
            cast(Handler, resolve(spec.handler)),
            cast(HeldHook, resolve(spec.on_held)) if spec.on_held else None,
            money=spec.priority == MONEY,
        )
        for kind, spec in SPECS.items()
    }


def _hold(ctx: Context, effect: Claimed, performer: Performer, error: str, at: timedelta) -> bool:
    """Hold a must-succeed effect; True when it was, False when the kind may fail."""
    if performer.on_held is None:
        return False
    now = ctx.clock()
    if effects.hold(ctx.db, effect, error=error, at=now + at, now=now):
        with ctx.db.transaction() as session:
            performer.on_held(ctx, session, effect, error)
    log.error("effect.held", effect=effect.key, kind=effect.kind, error=error)
    return True


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    """When to try an effect again after its ``attempts``-th transient failure: the one retry
    policy (2 s doubling to ``MAX_BACKOFF``), the remote's ``hint`` as a floor."""
    return timedelta(seconds=Backoff(base=2.0, cap=MAX_BACKOFF.total_seconds()).delay(attempts, hint))


def run_effects(
    ctx: Context,
    *,
    owner: str,
    realm_id: str | None = None,
    limit: int = 50,
    parallel: int = PARALLEL,
    kinds: Iterable[str] | None = None,
    table: Performers | None = None,
    exclude: Iterable[str] = (),
    also: Sequence[Claimed] = (),
) -> int:
    """Perform the effects ``also`` claimed already, then up to ``limit`` due effects (of ``kinds``,
    none of ``exclude``), ``parallel`` at a time; returns how many were attempted.

    Effects are independent by construction (each has its own key and its own transaction), so
    they can run side by side; the QBO connector still caps requests in flight per company.
    ``also`` goes before the claim: what a caller already holds (a batch of money entries) never
    waits for a claim's transaction.
    """
    table = performers() if table is None else table
    _perform_all(ctx, also, table, parallel)
    claimed = effects.claim(
        ctx.db, owner=owner, now=ctx.clock(), limit=limit, company_id=realm_id, kinds=kinds, exclude=exclude
    )
    _perform_all(ctx, claimed, table, parallel)
    return len(also) + len(claimed)


def _perform_all(ctx: Context, claimed: Sequence[Claimed], table: Performers, parallel: int) -> None:
    if len(claimed) <= 1 or parallel <= 1:
        for effect in claimed:
            perform(ctx, effect, table)
        return
    with ThreadPoolExecutor(max_workers=min(parallel, len(claimed)), thread_name_prefix="effect") as pool:
        for _ in pool.map(lambda effect: perform(ctx, effect, table), claimed):
            pass


def perform(ctx: Context, effect: Claimed, table: Performers | None = None) -> None:
    """Perform one claimed effect with the performer of its kind (the catalog's unless ``table``)."""
    performer = (performers() if table is None else table).get(effect.kind)
    bound = log.bind(effect=effect.key, kind=effect.kind, company=effect.company_id, attempt=effect.attempts)
    if performer is None:
        effects.fail(ctx.db, effect, error=f"no handler for effect kind {effect.kind!r}", now=ctx.clock())
        bound.error("effect.unknown_kind")
        return
    # Money's transactions, as its QBO requests, go before bulk work's (``turnstile.urgent``).
    with urgent(performer.money or URGENT.get()):
        _perform(ctx, effect, performer, bound)


def _perform(ctx: Context, effect: Claimed, performer: Performer, bound: structlog.BoundLogger) -> None:
    try:
        with money_first(performer.money):
            done = performer.handler(ctx.for_company(effect.company_id), effect)  # its Stripe account
        with ctx.db.transaction() as session:
            effects.complete(session, effect, now=ctx.clock(), remote_id=done.remote_id)
            if done.apply is not None:
                done.apply(session)
        bound.info("effect.done", remote_id=done.remote_id)
    except LeaseLost:
        bound.warning("effect.lease_lost")
    except TransientError as exc:
        wait = backoff(effect.attempts, exc.retry_after)
        if effect.attempts >= HOLD_AFTER and _hold(ctx, effect, performer, str(exc), wait):
            return
        if effect.attempts >= MAX_TRANSIENT_ATTEMPTS:
            effects.fail(
                ctx.db, effect, error=f"gave up after {effect.attempts} attempts: {exc}", now=ctx.clock()
            )
            bound.error("effect.gave_up", error=str(exc))
            return
        at = ctx.clock() + wait
        effects.retry_later(ctx.db, effect, error=str(exc), at=at)
        bound.warning("effect.retry", error=str(exc), at=at.isoformat())
    except AuthError as exc:
        # The effect waits for the company to resume (which makes it due at once); a charge
        # Stripe took is held there (listed, staff told once), never failed.
        if not _hold(ctx, effect, performer, str(exc), AUTH_RETRY):
            effects.retry_later(ctx.db, effect, error=str(exc), at=ctx.clock() + AUTH_RETRY)
        pause(ctx, effect.company_id, exc)
        bound.error("effect.auth", error=str(exc))
    except PermanentError as exc:
        if _hold(ctx, effect, performer, str(exc), min(MAX_BACKOFF, backoff(effect.attempts))):
            return
        effects.fail(ctx.db, effect, error=str(exc), now=ctx.clock())
        bound.error("effect.failed", error=str(exc))
    except Exception as exc:  # a bug in one handler must not stop the loop
        effects.retry_later(
            ctx.db, effect, error=f"{type(exc).__name__}: {exc}", at=ctx.clock() + backoff(effect.attempts)
        )
        bound.exception("effect.crashed")


def perform_now(ctx: Context, key: str, *, owner: str) -> bool:
    """Perform the effect ``key`` inline (someone is waiting) unless it is done, failed or leased
    elsewhere; whether it was performed here."""
    claimed = effects.claim_key(ctx.db, key, owner=owner, now=ctx.clock())
    if claimed is None:
        return False
    perform(ctx, claimed)
    return True


def release(ctx: Context, owner: str) -> None:
    effects.release(ctx.db, owner)
