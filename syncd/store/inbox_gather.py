"""Webhook deliveries that arrive together stored in one transaction, each answered only once its
own event is committed.

Stripe delivers a payment's five or so events at once, to many handler threads. Stored one
transaction each, they queued for the database turn behind one another (on SQLite the process
takes turns): at 20 payments a second a delivery waited ~170 ms for its 3 ms insert, and every
other urgent transaction of the payments waited behind them. Here the first delivery to arrive
writes what has arrived by then in one transaction (a savepoint each, so one bad row fails
alone); the ones that arrive meanwhile wait, and the first of them writes the next group. No
delivery is acknowledged before its row is committed, and a delivery whose group failed is
answered with the error, so Stripe sends it again (the inbox keeps one row per event id).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from syncd.errors import TransientError
from syncd.store.engine import Database
from syncd.store.turnstile import urgent

# Longer than a group's transaction ever takes, shorter than Stripe's 10 s wait for an answer.
PATIENCE = 8.0


@dataclass(eq=False)
class _Delivery:
    write: Callable[[Session], None]
    settled: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write the next group rather than settled
    error: BaseException | None = None


class Gathering:
    """The deliveries for one database (one per process: ``of``). ``store`` returns once the
    delivery's write is committed, or raises what stopped it."""

    def __init__(self, db: Database, patience: float = PATIENCE) -> None:
        self._db = db
        self._patience = patience
        self._lock = threading.Lock()
        self._waiting: list[_Delivery] = []
        self._writing = False

    def store(self, write: Callable[[Session], None]) -> None:
        """``write(session)`` stores one delivery; it runs in a savepoint of a group's transaction."""
        mine = _Delivery(write)
        with self._lock:
            self._waiting.append(mine)
            leads = not self._writing
            self._writing = True
        if not leads:
            if not mine.settled.wait(self._patience):
                with self._lock:
                    if mine in self._waiting and not mine.lead:
                        self._waiting.remove(mine)
                        raise TransientError("the webhook inbox is busy: the delivery will be retried")
                # Taken into a group meanwhile, or chosen to write the next one.
                mine.settled.wait()
            if not mine.lead:
                self._raise(mine)
                return
        self._write_group()
        self._raise(mine)

    def _write_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        committed = False
        try:
            with urgent(), self._db.transaction() as session:
                for delivery in group:
                    try:
                        with session.begin_nested():
                            delivery.write(session)
                    except Exception as exc:  # this row alone: the others commit
                        delivery.error = exc
            committed = True
        except Exception as exc:
            for delivery in group:
                delivery.error = delivery.error or exc
        finally:
            if not committed:
                for delivery in group:
                    delivery.error = delivery.error or TransientError("the webhook inbox was not written")
            with self._lock:
                following = self._waiting[0] if self._waiting else None
                if following is None:
                    self._writing = False
                else:
                    following.lead = True
            for delivery in group:
                delivery.settled.set()
            if following is not None:
                following.settled.set()

    @staticmethod
    def _raise(delivery: _Delivery) -> None:
        if delivery.error is not None:
            raise delivery.error


_GATHERINGS: weakref.WeakKeyDictionary[Database, Gathering] = weakref.WeakKeyDictionary()
_GATHERINGS_LOCK = threading.Lock()


def of(db: Database) -> Gathering:
    """The process's gathering of webhook deliveries for ``db``."""
    with _GATHERINGS_LOCK:
        found = _GATHERINGS.get(db)
        if found is None:
            found = _GATHERINGS[db] = Gathering(db)
        return found
