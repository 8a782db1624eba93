"""The re-read before an automatic charge, for a due day of thousands: the invoices of the
company's charges about to be sent are read from QBO together (one query of up to ``BATCH``), and
each answer serves its own charge once, within ``FRESH_SECONDS`` and only while the mirror has
seen no change to that invoice since the read; otherwise the invoice is read again on its own.

A day of 10,000 charges costs 100 QBO requests instead of 10,000 (QBO allows a company 500 a
minute, so one read each would take 20 minutes before the first booking). What is read is never
older than a charge sent one at a time would have met after a short wait for its turn.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime

from syncd.context import Context
from syncd.domain import Invoice

BATCH = 100  # ids in one query: QBO answers at most 100 rows when no MAXRESULTS is given
FRESH_SECONDS = 30.0


class Rereads:
    """Answers read together and not used yet, by company; one batch read at a time per company
    (the others wait for it and find their answer)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._answers: dict[tuple[str, str], tuple[float, datetime, Invoice | None]] = {}

    def invoice(
        self,
        ctx: Context,
        realm_id: str,
        invoice_id: str,
        *,
        others: Callable[[], Sequence[str]],
        mirrored_at: datetime | None,
    ) -> Invoice | None:
        """QBO's invoice ``invoice_id`` now (None: gone), read with ``others()`` (the company's
        next charges, asked only when a read is needed) unless a fresh answer is waiting."""
        with self._lock:
            company = self._locks.setdefault(realm_id, threading.Lock())
        with company:
            found = self._take(realm_id, invoice_id, mirrored_at)
            if found is not None:
                return found[0]
            wanted = [invoice_id, *[i for i in others() if i != invoice_id][: BATCH - 1]]
            read_at = ctx.clock()
            answers = {i.qbo_id: i for i in ctx.qbo(realm_id).get_invoices(wanted)}
            stamp = self._monotonic()
            with self._lock:
                for other in wanted[1:]:
                    self._answers[(realm_id, other)] = (stamp, read_at, answers.get(other))
            return answers.get(invoice_id)

    def _take(
        self, realm_id: str, invoice_id: str, mirrored_at: datetime | None
    ) -> tuple[Invoice | None] | None:
        with self._lock:
            self._expire()
            entry = self._answers.pop((realm_id, invoice_id), None)
        if entry is None:
            return None
        _, read_at, invoice = entry
        if mirrored_at is not None and mirrored_at > read_at:
            return None  # the mirror saw a change after the read: read it again
        return (invoice,)

    def _expire(self) -> None:
        floor = self._monotonic() - FRESH_SECONDS
        for key in [k for k, (stamp, _, _) in self._answers.items() if stamp < floor]:
            del self._answers[key]


_lock = threading.Lock()
_by_store: weakref.WeakKeyDictionary[object, Rereads] = weakref.WeakKeyDictionary()


def rereads_for(ctx: Context) -> Rereads:
    """The answers waiting for the charges of ``ctx``'s database: one set per store, so two syncd
    instances in one process (tests, a bench) never share an answer."""
    with _lock:
        found = _by_store.get(ctx.db)
        if found is None:
            found = _by_store[ctx.db] = Rereads()
        return found
