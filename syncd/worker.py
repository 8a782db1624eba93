"""The effect worker: claims due effects, performs each under its key, records the result.

A handler performs one remote side effect idempotently (the key travels as QBO ``requestid``,
Stripe ``Idempotency-Key`` or email Message-ID) and returns a ``Done`` whose ``apply`` runs in the
same transaction that marks the effect done. Errors follow the one error tree: transient ones are
retried with exponential backoff and jitter, permanent ones are recorded and surfaced, auth errors
pause the company. One bad effect never stops the others.
"""

from __future__ import annotations

import functools
import importlib
import random
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.companies import pause
from syncd.context import Context
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.store import effects
from syncd.store.effects import Claimed, LeaseLost

log = structlog.get_logger("syncd.worker")

MAX_BACKOFF = timedelta(minutes=30)
MAX_TRANSIENT_ATTEMPTS = 25
PARALLEL = 8


@dataclass(frozen=True, slots=True)
class Done:
    """What a performed effect produced: the remote id, and the local state change to commit."""

    remote_id: str | None = None
    apply: Callable[[Session], None] | None = None


Handler = Callable[[Context, Claimed], Done]
_HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the performer of one effect kind."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


@functools.cache
def _load_handlers() -> None:
    # The stage modules register their handlers on import; once per process is enough.
    for name in ("books", "collect", "confirm", "notify", "reconcile"):
        importlib.import_module(f"syncd.stages.{name}")


def backoff(attempts: int, hint: float | None = None) -> timedelta:
    base = min(MAX_BACKOFF.total_seconds(), 2.0 ** min(attempts, 12))
    delay = max(base * random.uniform(0.5, 1.0), hint or 0.0)
    return timedelta(seconds=delay)


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
        done = fn(ctx, effect)
        with ctx.db.transaction() as session:
            effects.complete(session, effect, now=ctx.clock(), remote_id=done.remote_id)
            if done.apply is not None:
                done.apply(session)
        bound.info("effect.done", remote_id=done.remote_id)
    except LeaseLost:
        bound.warning("effect.lease_lost")
    except TransientError as exc:
        if effect.attempts >= MAX_TRANSIENT_ATTEMPTS:
            effects.fail(
                ctx.db, effect, error=f"gave up after {effect.attempts} attempts: {exc}", now=ctx.clock()
            )
            bound.error("effect.gave_up", error=str(exc))
            return
        at = ctx.clock() + backoff(effect.attempts, exc.retry_after)
        effects.retry_later(ctx.db, effect, error=str(exc), at=at)
        bound.warning("effect.retry", error=str(exc), at=at.isoformat())
    except AuthError as exc:
        # The effect waits for the company to resume (which makes it due at once).
        effects.retry_later(ctx.db, effect, error=str(exc), at=ctx.clock() + timedelta(minutes=15))
        pause(ctx, effect.company_id, exc)
        bound.error("effect.auth", error=str(exc))
    except PermanentError as exc:
        effects.fail(ctx.db, effect, error=str(exc), now=ctx.clock())
        bound.error("effect.failed", error=str(exc))
    except Exception as exc:  # a bug in one handler must not stop the loop
        effects.retry_later(
            ctx.db, effect, error=f"{type(exc).__name__}: {exc}", at=ctx.clock() + backoff(effect.attempts)
        )
        bound.exception("effect.crashed")


def release(ctx: Context, owner: str) -> None:
    effects.release(ctx.db, owner)
