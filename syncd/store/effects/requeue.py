"""Making waiting effects due again once a person fixed the cause: failed, held, or awaiting a setting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from syncd.store.effects.rows import EffectStatus
from syncd.store.engine import Database
from syncd.store.models import Effect

# How an error reads when the effect waits for a setting (a payout with no bank account in its
# currency): "... held: set company.accounts.banks.JPY to ...".
AWAITS_SETTING = "held: set "


def due_awaiting_settings(db: Database, *, now: datetime) -> int:
    """At start the configuration may have just been fixed: effects waiting for a setting are due
    now rather than at their next (hourly) try, as their staff email promises."""
    with db.transaction() as session:
        result = session.execute(
            update(Effect)
            .where(
                Effect.status == EffectStatus.PENDING.value,
                Effect.next_attempt_at > now,
                Effect.last_error.like(f"%{AWAITS_SETTING}%"),
            )
            .values(next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0))


def requeue_failed(db: Database, *, company_id: str | None, now: datetime) -> int:
    """Put permanently failed effects back in the queue once a person fixed the cause, and make
    held ones due now rather than at their next retry."""
    with db.transaction() as session:
        stmt = update(Effect).where(Effect.status == EffectStatus.FAILED.value)
        again = update(Effect).where(Effect.status == EffectStatus.PENDING.value, Effect.held_at.is_not(None))
        if company_id is not None:
            stmt = stmt.where(Effect.company_id == company_id)
            again = again.where(Effect.company_id == company_id)
        result = session.execute(
            stmt.values(status=EffectStatus.PENDING.value, next_attempt_at=now, done_at=None)
        )
        moved = session.execute(again.where(Effect.next_attempt_at > now).values(next_attempt_at=now))
        return int(getattr(result, "rowcount", 0)) + int(getattr(moved, "rowcount", 0))


def requeue_one(db: Database, *, company_id: str, key: str, now: datetime) -> bool:
    """``requeue_failed`` for one effect of the company (failed, or held): False when it is neither."""
    with db.transaction() as session:
        effect = session.scalar(select(Effect).where(Effect.key == key, Effect.company_id == company_id))
        if effect is None:
            return False
        if effect.status == EffectStatus.FAILED.value:
            effect.status = EffectStatus.PENDING.value
            effect.done_at = None
        elif effect.status != EffectStatus.PENDING.value or effect.held_at is None:
            return False
        effect.next_attempt_at = min(effect.next_attempt_at, now)
        return True
