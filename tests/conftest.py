"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, and the CI strictness switch."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from logging_kept import logging_kept  # noqa: F401  (autouse: every test)
from sqlalchemy import create_engine, text
from strictness import unavailable

from connectors.quickbooks.limits import forget_all
from syncd.store.engine import Database, normalise_url
from syncd.store.migrate import upgrade
from syncd.store.models import Base

# Log through the standard library so pytest captures it, even from server threads that outlive
# a test's captured stdout.
structlog.configure(logger_factory=structlog.stdlib.LoggerFactory())

POSTGRES_URL = os.environ.get("SYNCD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def fresh_qbo_budgets() -> None:
    """Each test talks to a new QBO simulator whose 60-second windows start empty; syncd's own
    record of what it sent (process-wide, per realm id, which seeded simulators share) must too,
    or a busy suite runs later tests out of budget."""
    forget_all()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session on the configured server, dropped afterwards."""
    admin_url = normalise_url(POSTGRES_URL)
    name = f"syncd_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(exc).__name__}")
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    migrated = Database(url)
    upgrade(migrated)
    migrated.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(db: Database) -> None:
    with db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.execute(text("DELETE FROM alembic_version WHERE 1=0"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty store; every store test runs on both backends."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'syncd.db'}")
        upgrade(database)
    else:
        database = Database(request.getfixturevalue("postgres_database"))
        _truncate(database)
    yield database
    database.dispose()


@pytest.fixture
def database_url(db: Database) -> str:
    """The ``db`` store (migrated, empty, each backend) by URL, for tests that build their own context."""
    return db.url


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'syncd.db'}")
    upgrade(database)
    yield database
    database.dispose()
