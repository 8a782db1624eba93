"""Idempotency-Key replay: same key and params give the stored response; other params are an error;
keys are forgotten after 24 hours of simulator time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.stripe.simulator.errors import idempotency_error

KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: bytes
    saved_at: datetime


class IdempotencyKeys:
    def __init__(self) -> None:
        self._keys: dict[str, Stored] = {}

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> str:
        return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()

    def lookup(self, key: str, fingerprint: str, now: datetime) -> Stored | None:
        """The stored response to replay, None to execute, or Stripe's idempotency_error."""
        stored = self._keys.get(key)
        if stored is None:
            return None
        if now - stored.saved_at >= KEY_LIFETIME:
            del self._keys[key]
            return None
        if stored.fingerprint != fingerprint:
            raise idempotency_error(key)
        return stored

    def save(self, key: str, fingerprint: str, status: int, body: bytes, now: datetime) -> None:
        self._keys[key] = Stored(fingerprint, status, body, now)

    def expire(self, now: datetime) -> None:
        for key in [k for k, v in self._keys.items() if now - v.saved_at >= KEY_LIFETIME]:
            del self._keys[key]
