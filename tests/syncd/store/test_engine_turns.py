"""SQLite transactions of one process take turns on a lock: a waiting one is handed the database
when the last commits, rather than polling SQLite's busy lock with growing sleeps."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from syncd.store.engine import Database


def test_a_second_sqlite_transaction_begins_only_after_the_first_committed(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/syncd.db")
    with db.engine.connect(), db.engine.connect():
        pass  # two connections opened (and set up) beforehand: the pool hands them out at once
    order: list[str] = []

    def beginning(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Before ``BEGIN IMMEDIATE`` reaches SQLite, whose own lock would hold the second there.
        if statement == "BEGIN IMMEDIATE":
            order.append(threading.current_thread().name)

    event.listen(db.engine, "before_cursor_execute", beginning)
    event.listen(db.engine, "commit", lambda conn: order.append("commit"))

    def second() -> None:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))

    waiting = threading.Thread(target=second, name="second")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            waiting.start()
            time.sleep(0.2)  # long enough for the second to reach SQLite, were it let through
        waiting.join(10)
        assert order == ["MainThread", "commit", "second", "commit"]
    finally:
        db.dispose()


def test_a_nested_transaction_in_one_thread_is_not_held_by_the_turn(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/syncd.db")
    try:
        with db.transaction() as outer:  # begun lazily: no SQL yet, so SQLite holds no lock
            with db.transaction() as inner:
                inner.execute(text("CREATE TABLE t (x INTEGER)"))
            outer.execute(text("INSERT INTO t VALUES (1)"))
        with db.transaction() as session:
            assert session.scalar(text("SELECT count(*) FROM t")) == 1
    finally:
        db.dispose()
