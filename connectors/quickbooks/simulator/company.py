"""One simulated company as the server sees it: state, entity operations, replay cache and counters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from connectors.quickbooks.simulator.books import Books
from connectors.quickbooks.simulator.recurring import Recurrences
from connectors.quickbooks.simulator.seed import CompanySeed
from connectors.quickbooks.simulator.store import RealmState

REPLAY_LIMIT = 20_000  # first responses kept for replay; oldest dropped first


@dataclass(frozen=True, slots=True)
class StoredReply:
    """The first response to a ``requestid``: replayed byte for byte on a repeat."""

    status: int
    body: bytes
    media_type: str


@dataclass
class SimCompany:
    state: RealmState
    books: Books
    seed: CompanySeed
    replies: dict[str, StoredReply] = field(default_factory=dict)
    counts: dict[str, int] = field(
        default_factory=lambda: {"read": 0, "write": 0, "batch": 0, "throttled": 0}
    )
    counts_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def realm_id(self) -> str:
        return self.state.realm_id

    @property
    def recurring(self) -> Recurrences:
        """The company's recurring templates (stateless over ``state``: built on each use)."""
        return Recurrences(self.state, self.books, self.books.now)

    def count(self, kind: str) -> None:
        with self.counts_lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def remember(self, request_id: str, reply: StoredReply) -> None:
        with self.counts_lock:
            if len(self.replies) >= REPLAY_LIMIT:
                self.replies.pop(next(iter(self.replies)))
            self.replies.setdefault(request_id, reply)
