"""Engines and sessions: SQLite (WAL, embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from syncd.errors import ConfigError, SyncdError, UnavailableError
from syncd.store.turnstile import Turnstile

# A server that answered but cannot serve yet: worth a restart, not a fix.
_PASSING = (
    "starting up",
    "shutting down",
    "in recovery",
    "too many connections",
    "Temporary failure",
    "database is locked",
)
# SQLite lets one transaction write at a time (``BEGIN IMMEDIATE``) and a waiting one polls for the
# lock with sleeps growing to 100 ms; with a few hundred companies' jobs queued for it that polling
# was most of a payment's latency. In one process they queue on a lock instead, which hands the
# database over the moment the last transaction committed; as long as SQLite's own wait at most.
SQLITE_TURN_SECONDS = 30.0


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine tuned for syncd's access pattern: many short transactions, few writers."""
    try:
        parsed = make_url(normalise_url(url))
    except Exception as exc:
        raise ConfigError("database.url", f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(Path(parsed.database))
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take the write lock at BEGIN so two writers never deadlock upgrading read locks.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if backend == "postgresql":
        _require_postgres_driver()
        return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise ConfigError("database.url", f"unsupported database {backend!r}: use sqlite or postgresql")


def _require_postgres_driver() -> None:
    """The driver is the ``postgres`` extra (SQLite users need none): name the install when absent."""
    try:
        importlib.import_module("psycopg")
    except ImportError:
        raise ConfigError(
            "database.url",
            "a postgresql URL needs the PostgreSQL driver: pip install 'syncd[postgres]'",
        ) from None


def private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only, whatever the umask: SQLite gives the
    -wal and -shm files the database file's mode. An existing file is made private too."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        return  # a missing directory or no access: SQLite reports it when it opens the file
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except OSError:
            continue  # absent, or another user's file: nothing syncd may change


def explain(exc: DBAPIError) -> SyncdError:
    """One line naming ``database.url`` for a failed connection: a ConfigError when the URL is
    wrong (bad role, missing database or directory), UnavailableError when it may come back."""
    # The first line is the failure; psycopg adds a hint line about TCP/IP after it.
    first = " ".join((str(exc.orig).splitlines() or [""])[0].split())
    # psycopg prefixes every line with where it tried; the server's own words come after FATAL.
    reason = re.sub(r"^connection failed: ", "", first)
    if any(word in reason for word in _PASSING):
        return UnavailableError("database.url", f"the database cannot serve now ({reason})")
    if "sqlite" in type(exc.orig).__module__:
        return ConfigError(
            "database.url", f"cannot open the SQLite database ({reason}): may syncd write there?"
        )
    if "FATAL:" in reason or "Name or service not known" in reason:
        return ConfigError("database.url", f"the database refused the connection ({reason})")
    return UnavailableError("database.url", f"cannot reach the database ({reason}); is it running?")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling would defeat BEGIN IMMEDIATE above.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """An engine plus its session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reentrant: a nested transaction in one thread is SQLite's to refuse, not a deadlock here.
        # Urgent transactions (``turnstile.urgent``: payments on their way) are handed it first.
        self._turn = Turnstile() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception. On SQLite the
        transactions of this process take turns (see SQLITE_TURN_SECONDS)."""
        turn = self._turn is not None and self._turn.acquire(timeout=SQLITE_TURN_SECONDS)
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            if turn and self._turn is not None:
                self._turn.release()

    def ping(self) -> None:
        """Open one connection now, so a wrong or unreachable database is named before anything
        else starts; raises ConfigError or UnavailableError (see ``explain``)."""
        parsed = self.engine.url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            folder = Path(parsed.database).resolve().parent
            if not folder.is_dir():
                raise ConfigError("database.url", f"the SQLite directory {folder} does not exist: create it")
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise explain(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()
