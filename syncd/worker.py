"""The effect worker: claims due effects, performs each under its key, records the result.

A handler performs one remote side effect idempotently (the key travels as QBO ``requestid``,
Stripe ``Idempotency-Key`` or email Message-ID) and returns a ``Done`` whose ``apply`` runs in the
same transaction that marks the effect done. Errors follow the one error tree: transient ones are
retried with exponential backoff and jitter, permanent ones are recorded and surfaced, auth errors
mark the company as waiting for a reconnect. One bad effect never stops the others.

A kind registered with ``on_held`` must not fail (a charge Stripe took must reach the books):
where another kind would fail for good, or after ``HOLD_AFTER`` transient attempts, or when the
company's connection is refused, it is *held* instead — kept pending, retried every
``MAX_BACKOFF`` until the cause clears, listed by ``syncd status`` and ``syncd failed``, and
``on_held`` tells staff the first time.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.companies import pause
from syncd.context import Context
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.ports.quickbooks import money_first
from syncd.retrying import Backoff
from syncd.store import effects
from syncd.store.effects import Claimed, LeaseLost

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
_HANDLERS: dict[str, Handler] = {}
_ON_HELD: dict[str, HeldHook] = {}


def handler(kind: str, *, on_held: HeldHook | None = None) -> Callable[[Handler], Handler]:
    """Register the performer of one effect kind; with ``on_held`` the kind never fails for good
    (see the module docstring) and the hook runs, in a transaction, the first time it is held."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        if on_held is not None:
            _ON_HELD[kind] = on_held
        return fn

    return register


def _hold(ctx: Context, effect: Claimed, error: str, at: timedelta) -> bool:
    """Hold a must-succeed effect; True when it was, False when the kind may fail."""
    hook = _ON_HELD.get(effect.kind)
    if hook is None:
        return False
    now = ctx.clock()
    if effects.hold(ctx.db, effect, error=error, at=now + at, now=now):
        with ctx.db.transaction() as session:
            hook(ctx, session, effect, error)
    log.error("effect.held", effect=effect.key, kind=effect.kind, error=error)
    return True


@functools.cache
def _load_handlers() -> None:
    # The stage modules register their handlers on import; once per process is enough.
    for name in (
        "account",
        "books",
        "card_expiry",
        "card_requests",
        "collect",
        "confirm",
        "notify",
        "reconcile",
        "saved_methods",
    ):
        importlib.import_module(f"syncd.stages.{name}")


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
) -> int:
    """Perform up to ``limit`` due effects, ``parallel`` at a time; returns how many were attempted.

    Effects are independent by construction (each has its own key and its own transaction), so
    they can run side by side; the QBO connector still caps requests in flight per company.
    """
    _load_handlers()
    claimed = effects.claim(
        ctx.db, owner=owner, now=ctx.clock(), limit=limit, company_id=realm_id, kinds=kinds
    )
    if len(claimed) <= 1 or parallel <= 1:
        for effect in claimed:
            perform(ctx, effect)
        return len(claimed)
    with ThreadPoolExecutor(max_workers=min(parallel, len(claimed)), thread_name_prefix="effect") as pool:
        for _ in pool.map(lambda effect: perform(ctx, effect), claimed):
            pass
    return len(claimed)


def perform(ctx: Context, effect: Claimed) -> None:
    _load_handlers()
    fn = _HANDLERS.get(effect.kind)
    bound = log.bind(effect=effect.key, kind=effect.kind, company=effect.company_id, attempt=effect.attempts)
    if fn is None:
        effects.fail(ctx.db, effect, error=f"no handler for effect kind {effect.kind!r}", now=ctx.clock())
        bound.error("effect.unknown_kind")
        return
    try:
        with money_first(effects.priority_of(effect.kind) == 0):
            done = fn(ctx, effect)
        with ctx.db.transaction() as session:
            effects.complete(session, effect, now=ctx.clock(), remote_id=done.remote_id)
            if done.apply is not None:
                done.apply(session)
        bound.info("effect.done", remote_id=done.remote_id)
    except LeaseLost:
        bound.warning("effect.lease_lost")
    except TransientError as exc:
        wait = backoff(effect.attempts, exc.retry_after)
        if effect.attempts >= HOLD_AFTER and _hold(ctx, effect, str(exc), wait):
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
        if not _hold(ctx, effect, str(exc), AUTH_RETRY):
            effects.retry_later(ctx.db, effect, error=str(exc), at=ctx.clock() + AUTH_RETRY)
        pause(ctx, effect.company_id, exc)
        bound.error("effect.auth", error=str(exc))
    except PermanentError as exc:
        if _hold(ctx, effect, str(exc), min(MAX_BACKOFF, backoff(effect.attempts))):
            return
        effects.fail(ctx.db, effect, error=str(exc), now=ctx.clock())
        bound.error("effect.failed", error=str(exc))
    except Exception as exc:  # a bug in one handler must not stop the loop
        effects.retry_later(
            ctx.db, effect, error=f"{type(exc).__name__}: {exc}", at=ctx.clock() + backoff(effect.attempts)
        )
        bound.exception("effect.crashed")


def release(ctx: Context, owner: str) -> None:
    effects.release(ctx.db, owner)
