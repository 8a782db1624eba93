"""What an effect row is to its users: its statuses, the ``Claimed`` handle an owner holds, ``LeaseLost``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_

from syncd.store.models import Effect


class EffectStatus(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


def payload_text(name: str) -> ColumnElement[str]:
    """A stored payload field as text, for SQL that joins on it (e.g. ``payment_key``)."""
    text: ColumnElement[str] = Effect.payload[name].as_string()
    return text


class LeaseLost(Exception):
    """Another owner took the effect over (our lease expired): roll back, do not mark it done."""


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    kind: str
    company_id: str
    payload: Mapping[str, Any]
    attempts: int
    owner: str


def owned(effect: Claimed) -> Any:
    """The row of ``effect`` while its owner still holds it (pending, leased to that owner)."""
    return and_(
        Effect.id == effect.id,
        Effect.lease_owner == effect.owner,
        Effect.status == EffectStatus.PENDING.value,
    )
