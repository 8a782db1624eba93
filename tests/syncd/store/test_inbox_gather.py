"""Webhook deliveries stored together: the ones that arrive while a group is written go in the
next group's one transaction, each answered only after its row is committed; a bad row fails
alone; a group that is not committed fails every delivery in it; a delivery that waits too long
is refused without stopping the rest — on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.errors import TransientError
from syncd.store import inbox
from syncd.store.engine import Database
from syncd.store.inbox_gather import Gathering
from syncd.store.models import InboxEvent

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _writer(event_id: str, sessions: list[int] | None = None) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        if sessions is not None:
            sessions.append(id(session))
        inbox.store(session, source="stripe", event_id=event_id, event_type="t", payload=b"{}", now=T0)

    return write


def _stored(db: Database, event_id: str | None = None) -> int:
    with db.transaction() as s:
        query = select(func.count()).select_from(InboxEvent)
        if event_id is not None:
            query = query.where(InboxEvent.event_id == event_id)
        return int(s.scalar(query) or 0)


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_deliveries_that_arrive_meanwhile_share_the_next_transaction(db: Database) -> None:
    gathering = Gathering(db)
    release = threading.Event()
    sessions: list[int] = []
    seen_at_return: dict[str, int] = {}

    def slow_first(session: Session) -> None:
        release.wait(10)  # the first group is being written while the others arrive
        _writer("evt_0")(session)

    def deliver(event_id: str, write: Callable[[Session], None]) -> None:
        gathering.store(write)
        seen_at_return[event_id] = _stored(db, event_id)  # acknowledged only once committed

    first = threading.Thread(target=deliver, args=("evt_0", slow_first))
    first.start()
    _until(lambda: gathering._writing)
    others = [
        threading.Thread(target=deliver, args=(f"evt_{n}", _writer(f"evt_{n}", sessions)))
        for n in range(1, 10)
    ]
    for thread in others:
        thread.start()
    _until(lambda: len(gathering._waiting) == 9)
    release.set()
    for thread in (first, *others):
        thread.join(10)
    assert _stored(db) == 10
    assert seen_at_return == {f"evt_{n}": 1 for n in range(10)}
    assert len(set(sessions)) == 1  # the nine that waited: one transaction
    assert not gathering._writing and not gathering._waiting


def test_a_bad_row_fails_alone_and_a_duplicate_delivery_is_one_row(db: Database) -> None:
    gathering = Gathering(db)

    def bad(session: Session) -> None:
        raise ValueError("not a Stripe event")

    gathering.store(_writer("evt_a"))
    with pytest.raises(ValueError):
        gathering.store(bad)
    gathering.store(_writer("evt_a"))  # Stripe sent it again
    gathering.store(_writer("evt_b"))
    assert _stored(db) == 2


def test_a_group_not_committed_fails_every_delivery_in_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathering = Gathering(db)
    real = db.transaction

    @contextmanager
    def failing() -> Iterator[Session]:
        with real() as session:
            yield session
            raise TransientError("database is locked")  # as if the commit failed

    monkeypatch.setattr(db, "transaction", failing)
    with pytest.raises(TransientError):
        gathering.store(_writer("evt_lost"))
    monkeypatch.undo()
    assert _stored(db) == 0
    gathering.store(_writer("evt_lost"))  # Stripe's retry is stored
    assert _stored(db) == 1


def test_a_delivery_that_waits_too_long_is_refused_and_the_rest_go_on(db: Database) -> None:
    gathering = Gathering(db, patience=0.2)
    release = threading.Event()
    outcome: list[str] = []

    def stuck(session: Session) -> None:
        release.wait(10)
        _writer("evt_slow")(session)

    def deliver(write: Callable[[Session], None]) -> None:
        try:
            gathering.store(write)
            outcome.append("stored")
        except TransientError:
            outcome.append("refused")

    first = threading.Thread(target=deliver, args=(stuck,))
    first.start()
    _until(lambda: gathering._writing)
    waiting = threading.Thread(target=deliver, args=(_writer("evt_waited"),))
    waiting.start()
    waiting.join(10)
    assert outcome == ["refused"] and not gathering._waiting
    release.set()
    first.join(10)
    gathering.store(_writer("evt_next"))  # nobody is left holding the turn to write
    assert sorted(outcome) == ["refused", "stored"]
    assert _stored(db, "evt_waited") == 0 and _stored(db) == 2
