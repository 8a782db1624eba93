"""What the scheduled jobs run: the real stages by default, fakes in tests of the schedule itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from syncd import worker
from syncd.context import Context
from syncd.stages import account_cleanup, batching, events
from syncd.stages.cycle import run_cycle


class EffectRunner(Protocol):
    def __call__(
        self,
        ctx: Context,
        *,
        owner: str,
        realm_id: str | None = None,
        limit: int = 50,
        kinds: Iterable[str] | None = None,
    ) -> int: ...


def _refresh_tokens(ctx: Context, realm_id: str) -> None:
    """Keep the refresh-token chain alive without a metered read: ask for a fresh access token."""
    ctx.qbo(realm_id).keep_alive()


def _clean_sign_ins(ctx: Context) -> None:
    account_cleanup.run(ctx)


@dataclass(frozen=True, slots=True)
class Stages:
    """What the jobs run; the real stages by default, fakes in tests of the schedule itself."""

    cycle: Callable[[Context, str], object]
    run_effects: EffectRunner
    ingest: Callable[[Context], object]
    backfill: Callable[[Context], object]
    release: Callable[[Context, str], object]
    refresh: Callable[[Context, str], object] = _refresh_tokens
    cleanup: Callable[[Context], object] = _clean_sign_ins


def real_stages() -> Stages:
    return Stages(
        cycle=run_cycle,
        run_effects=batching.run_effects_batched,
        ingest=events.ingest,
        backfill=events.backfill,
        release=worker.release,
    )
