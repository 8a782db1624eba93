"""The SQLite turn: handed to urgent waiters (payments on their way) before bulk work, each kind in
order of arrival; reentrant for its holder; a waiter that gives up leaves the line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from syncd.store.engine import Database
from syncd.store.turnstile import Turnstile, urgent


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, "the waiters never queued"
        time.sleep(0.01)


def test_an_urgent_waiter_goes_before_others_that_came_first() -> None:
    turns = Turnstile()
    order: list[str] = []

    def wait(name: str, first: bool) -> threading.Thread:
        def run() -> None:
            with urgent(first):
                assert turns.acquire(10)
            order.append(name)
            turns.release()

        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    assert turns.acquire(1)
    threads = [wait("bulk-1", False)]
    _until(lambda: turns.waiting() == (0, 1))
    threads.append(wait("bulk-2", False))
    _until(lambda: turns.waiting() == (0, 2))
    threads.append(wait("money", True))
    _until(lambda: turns.waiting() == (1, 2))
    turns.release()
    for thread in threads:
        thread.join(10)
    assert order == ["money", "bulk-1", "bulk-2"]
    assert turns.waiting() == (0, 0)


def test_the_holder_may_take_it_again_and_gives_it_up_at_its_last_release() -> None:
    turns = Turnstile()
    assert turns.acquire(1) and turns.acquire(1)
    turns.release()
    got: list[bool] = []
    other = threading.Thread(target=lambda: got.append(turns.acquire(0.05)))
    other.start()
    other.join(10)
    assert got == [False]  # still held once
    turns.release()
    other = threading.Thread(target=lambda: got.append(turns.acquire(1)))
    other.start()
    other.join(10)
    assert got == [False, True]


def test_a_waiter_that_gave_up_leaves_the_line() -> None:
    turns = Turnstile()
    assert turns.acquire(1)
    gave_up: list[bool] = []
    waiter = threading.Thread(target=lambda: gave_up.append(turns.acquire(0.05, first=True)))
    waiter.start()
    waiter.join(10)
    assert gave_up == [False]
    assert turns.waiting() == (0, 0)
    turns.release()
    assert turns.acquire(0.1)  # free again, not handed to the one that left
    turns.release()


def test_urgent_sqlite_transactions_commit_before_queued_bulk_ones(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/syncd.db")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (who TEXT)"))
    turn = db._turn
    assert isinstance(turn, Turnstile)

    def write(who: str, first: bool) -> threading.Thread:
        def run() -> None:
            with urgent(first), db.transaction() as session:
                session.execute(text("INSERT INTO t VALUES (:who)"), {"who": who})

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    try:
        with db.transaction() as session:
            session.execute(text("INSERT INTO t VALUES ('first')"))
            threads = [write("bulk", False)]
            _until(lambda: turn.waiting() == (0, 1))
            threads.append(write("payment", True))
            _until(lambda: turn.waiting() == (1, 1))
        for thread in threads:
            thread.join(10)
        with db.transaction() as session:
            rows = [r[0] for r in session.execute(text("SELECT who FROM t ORDER BY rowid"))]
        assert rows == ["first", "payment", "bulk"]
    finally:
        db.dispose()
