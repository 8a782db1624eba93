"""QBO token pairs, encrypted at rest, with a cross-process refresh lock."""

from __future__ import annotations

import json
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
from syncd.store import leases
from syncd.store.engine import Database
from syncd.store.models import Secret

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
        with self._db.transaction() as session:
            row = session.get(Secret, (realm_id, TOKENS))
            if row is None:
                return None
            data = json.loads(self._box.decrypt(row.ciphertext))
        return QboTokens(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            access_expires_at=datetime.fromisoformat(data["access_expires_at"]),
            refresh_expires_at=(
                datetime.fromisoformat(data["refresh_expires_at"]) if data.get("refresh_expires_at") else None
            ),
        )

    def save(self, realm_id: str, tokens: QboTokens) -> None:
        blob = json.dumps(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "access_expires_at": tokens.access_expires_at.isoformat(),
                "refresh_expires_at": tokens.refresh_expires_at.isoformat()
                if tokens.refresh_expires_at
                else None,
            }
        ).encode()
        ciphertext = self._box.encrypt(blob)
        now = self._clock()
        with self._db.transaction() as session:
            row = session.get(Secret, (realm_id, TOKENS))
            if row is None:
                session.add(Secret(company_id=realm_id, name=TOKENS, ciphertext=ciphertext, updated_at=now))
            else:
                row.ciphertext = ciphertext
                row.version += 1
                row.updated_at = now

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
