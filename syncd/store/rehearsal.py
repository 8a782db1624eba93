"""A rehearsal of the store: stages run as usual, and everything they wrote is rolled back.

Contract: every ``transaction()`` of a :class:`Rehearsal` is a SAVEPOINT inside one outer
transaction on one connection; its commit is visible to the next transaction of the same
rehearsal only, and ``close()`` rolls the outer transaction back, so the database is left as it
was. On SQLite the outer transaction holds the write lock until ``close()``: keep it short, and
do anything that must be saved for real (a rotated QBO refresh token) through the real store.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import sessionmaker

from syncd.store.engine import Database


class Rehearsal(Database):
    """``Rehearsal(db)`` shares ``db``'s engine; use it as a context manager."""

    def __init__(self, db: Database) -> None:
        self.url = db.url
        self.engine = db.engine
        self._connection = db.engine.connect()
        self._outer = self._connection.begin()
        self._sessions = sessionmaker(
            bind=self._connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        # Its transactions are savepoints on its one connection: no turn to take with the others.
        self._turn = None

    def close(self) -> None:
        """Roll back everything written through this rehearsal."""
        if self._outer.is_active:
            self._outer.rollback()
        self._connection.close()

    def dispose(self) -> None:
        # The engine belongs to the real store.
        self.close()

    def __enter__(self) -> Rehearsal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
