"""Entity state of one simulated company: tables of raw QBO JSON, lazily materialised, plus tombstones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Entity = dict[str, Any]
Factory = Callable[[str], Entity]

ENTITY_NAMES = (
    "Invoice",
    "Customer",
    "Payment",
    "CreditMemo",
    "Account",
    "Vendor",
    "PaymentMethod",
    "Purchase",
    "Transfer",
    "RefundReceipt",
    "Deposit",
    "Item",
    "TaxCode",
    "SalesReceipt",
    "Term",
    "Class",
)
_BY_LOWER = {name.lower(): name for name in ENTITY_NAMES}


def canonical_entity(name: str) -> str | None:
    """The QBO spelling of an entity named in a URL or query (case-insensitive), or None."""
    return _BY_LOWER.get(name.lower())


@dataclass(slots=True)
class Tombstone:
    entity_id: str
    deleted_at: datetime
    body: Entity


class Table:
    """One entity type's rows in Id order. Seeded rows stay unmaterialised (``None``) until read;
    they are built by ``factory`` and cached only while the table is small, to keep 100k rows cheap."""

    def __init__(self, name: str, *, cache_limit: int = 25_000) -> None:
        self.name = name
        self._rows: dict[str, Entity | None] = {}
        self._mtime: dict[str, float] = {}
        self._factory: Factory | None = None
        self._cache_limit = cache_limit
        self.tombstones: dict[str, Tombstone] = {}

    def seed_lazy(self, ids: list[str], mtimes: list[float], factory: Factory) -> None:
        self._factory = factory
        for entity_id, mtime in zip(ids, mtimes, strict=True):
            self._rows[entity_id] = None
            self._mtime[entity_id] = mtime

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._rows

    def ids(self) -> list[str]:
        return list(self._rows)

    def get(self, entity_id: str) -> Entity | None:
        """The stored JSON (treat as read-only; write back a copy with :meth:`put`)."""
        if entity_id not in self._rows:
            return None
        row = self._rows[entity_id]
        if row is None:
            assert self._factory is not None
            row = self._factory(entity_id)
            if len(self._rows) <= self._cache_limit:
                self._rows[entity_id] = row
        return row

    def put(self, row: Entity, mtime: datetime) -> None:
        entity_id = str(row["Id"])
        self._rows[entity_id] = row
        self._mtime[entity_id] = mtime.timestamp()

    def remove(self, entity_id: str, when: datetime, tombstone: Entity) -> None:
        self._rows.pop(entity_id, None)
        self._mtime.pop(entity_id, None)
        self.tombstones[entity_id] = Tombstone(entity_id, when, tombstone)

    def rows(self) -> Iterator[Entity]:
        for entity_id in list(self._rows):
            row = self.get(entity_id)
            if row is not None:
                yield row

    def changed_since(self, since: datetime) -> list[tuple[float, str]]:
        """(mtime, id) of live rows changed at or after ``since``, oldest first."""
        floor = since.timestamp()
        hits = [(mtime, entity_id) for entity_id, mtime in self._mtime.items() if mtime >= floor]
        hits.sort(key=lambda pair: (pair[0], int(pair[1]) if pair[1].isdigit() else 0))
        return hits


@dataclass(slots=True)
class Change:
    """One entity change, as webhooks announce it."""

    realm_id: str
    name: str
    entity_id: str
    operation: str  # Create | Update | Delete | Void
    when: datetime


@dataclass
class RealmState:
    """Everything one company holds. ``lock`` guards every read and write of the tables."""

    realm_id: str
    company_info: Entity
    preferences: Entity
    tables: dict[str, Table] = field(default_factory=lambda: {name: Table(name) for name in ENTITY_NAMES})
    next_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)
    listeners: list[Callable[[Change], None]] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return self.tables[name]

    def allocate_id(self) -> str:
        value = self.next_id
        self.next_id += 1
        return str(value)

    def emit(self, name: str, entity_id: str, operation: str, when: datetime) -> None:
        change = Change(self.realm_id, name, entity_id, operation, when)
        for listener in self.listeners:
            listener(change)
