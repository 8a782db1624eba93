"""Entity state of one simulated company: indexed tables of raw QBO JSON, built on demand, plus tombstones."""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections import OrderedDict
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
    "RecurringTransaction",
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


def _id_key(entity_id: str) -> int:
    return int(entity_id) if entity_id.isdigit() else 0


class Table:
    """One entity type's rows, indexed by Id order and by change time.

    Seeded rows stay unmaterialised (``None``) until read and are then rebuilt by ``factory``
    on demand; a bounded LRU keeps the recently read ones, so memory stays flat and a page of N
    rows costs N builds at most, whatever the table's size. Rows written by the API are stored.
    """

    def __init__(self, name: str, *, cache_size: int = 4096) -> None:
        self.name = name
        self._rows: dict[str, Entity | None] = {}
        self._mtime: dict[str, float] = {}
        self._factory: Factory | None = None
        self._cache: OrderedDict[str, Entity] = OrderedDict()
        self._cache_size = cache_size
        self._order: list[str] | None = []  # ids in Id order; None after a removal (rebuilt lazily)
        self._by_time: list[tuple[float, int, str]] = []  # (mtime, numeric id, id), sorted
        self.tombstones: dict[str, Tombstone] = {}

    def seed_lazy(self, ids: list[str], mtimes: list[float], factory: Factory) -> None:
        self._factory = factory
        for entity_id, mtime in zip(ids, mtimes, strict=True):
            if entity_id in self._rows:
                self._unindex_time(entity_id)
            else:
                self._append_id(entity_id)
            self._rows[entity_id] = None
            self._mtime[entity_id] = mtime
        self._by_time.extend((mtime, _id_key(i), i) for i, mtime in zip(ids, mtimes, strict=True))
        self._by_time.sort()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._rows

    def ids(self) -> list[str]:
        """Every live id in Id order (the shared list: do not modify it)."""
        if self._order is None:
            self._order = sorted(self._rows, key=_id_key)
        return self._order

    def _append_id(self, entity_id: str) -> None:
        order = self._order
        if order is None:
            return
        if order and _id_key(order[-1]) > _id_key(entity_id):
            self._order = None  # an id out of sequence: sort once when next asked
        else:
            order.append(entity_id)

    def get(self, entity_id: str) -> Entity | None:
        """The stored JSON (treat as read-only; write back a copy with :meth:`put`)."""
        if entity_id not in self._rows:
            return None
        row = self._rows[entity_id]
        if row is not None:
            return row
        cached = self._cache.get(entity_id)
        if cached is not None:
            self._cache.move_to_end(entity_id)
            return cached
        assert self._factory is not None
        row = self._factory(entity_id)
        self._cache[entity_id] = row
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return row

    def put(self, row: Entity, mtime: datetime) -> None:
        entity_id = str(row["Id"])
        if entity_id in self._rows:
            self._unindex_time(entity_id)
        else:
            self._append_id(entity_id)
        self._cache.pop(entity_id, None)
        self._rows[entity_id] = row
        stamp = mtime.timestamp()
        self._mtime[entity_id] = stamp
        insort(self._by_time, (stamp, _id_key(entity_id), entity_id))

    def remove(self, entity_id: str, when: datetime, tombstone: Entity) -> None:
        if entity_id in self._rows:
            self._unindex_time(entity_id)
            self._order = None
        self._rows.pop(entity_id, None)
        self._mtime.pop(entity_id, None)
        self._cache.pop(entity_id, None)
        self.tombstones[entity_id] = Tombstone(entity_id, when, tombstone)

    def _unindex_time(self, entity_id: str) -> None:
        entry = (self._mtime[entity_id], _id_key(entity_id), entity_id)
        at = bisect_left(self._by_time, entry)
        if at < len(self._by_time) and self._by_time[at] == entry:
            del self._by_time[at]

    def rows(self) -> Iterator[Entity]:
        for entity_id in list(self.ids()):
            row = self.get(entity_id)
            if row is not None:
                yield row

    def changed_since(self, since: datetime) -> list[tuple[float, str]]:
        """(mtime, id) of live rows changed at or after ``since``, oldest first (from the index)."""
        at = bisect_left(self._by_time, (since.timestamp(),))
        return [(mtime, entity_id) for mtime, _, entity_id in self._by_time[at:]]

    def by_time(self) -> list[str]:
        """Every live id, oldest change first."""
        return [entity_id for _, _, entity_id in self._by_time]


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
