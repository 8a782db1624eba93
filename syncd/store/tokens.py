"""QBO token pairs, encrypted at rest, with a cross-process refresh lock."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from syncd.clock import Clock, utcnow
from syncd.errors import TransientError
from syncd.ports.quickbooks import QboTokens
from syncd.secrets import SecretBox
from syncd.store import leases, sealed
from syncd.store.engine import Database

TOKENS = "qbo_tokens"


class EncryptedTokenStore:
    """Implements ``syncd.ports.quickbooks.TokenStore`` on the ``secrets`` table."""

    def __init__(
        self, db: Database, box: SecretBox, *, clock: Clock = utcnow, lock_wait: float = 30.0
    ) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._lock_wait = lock_wait
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def load(self, realm_id: str) -> QboTokens | None:
        data = sealed.read(self._db, self._box, realm_id, TOKENS)
        if data is None:
            return None
        return QboTokens(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            access_expires_at=datetime.fromisoformat(data["access_expires_at"]),
            refresh_expires_at=(
                datetime.fromisoformat(data["refresh_expires_at"]) if data.get("refresh_expires_at") else None
            ),
        )

    def save(self, realm_id: str, tokens: QboTokens) -> None:
        data = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "access_expires_at": tokens.access_expires_at.isoformat(),
            "refresh_expires_at": tokens.refresh_expires_at.isoformat()
            if tokens.refresh_expires_at
            else None,
        }
        sealed.write(self._db, self._box, realm_id, TOKENS, data, now=self._clock())

    @contextmanager
    def refresh_lock(self, realm_id: str) -> Iterator[None]:
        name = f"qbo-refresh:{realm_id}"
        deadline = time.monotonic() + self._lock_wait
        while not leases.acquire(self._db, name, self._owner, now=self._clock(), seconds=60):
            if time.monotonic() > deadline:
                raise TransientError(f"token refresh for {realm_id} is held by another process")
            time.sleep(0.05)
        try:
            yield
        finally:
            leases.release(self._db, name, self._owner)
