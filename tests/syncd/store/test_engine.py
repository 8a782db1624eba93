"""The SQLite store is private to its owner: the database and its -wal/-shm files are 0600."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from syncd.errors import ConfigError
from syncd.store.engine import Database


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_files_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "syncd.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        db.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "syncd.db"
    path.touch(mode=0o644)
    assert _mode(path) == 0o644
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600


def test_memory_database_needs_no_file(tmp_path: Path) -> None:
    db = Database("sqlite://")
    with db.transaction() as s:
        assert s.execute(text("SELECT 1")).scalar() == 1
    db.dispose()


def test_postgresql_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` meets when absent

    with pytest.raises(ConfigError) as raised:
        Database("postgresql://syncd@db.internal/syncd")

    assert raised.value.setting == "database.url"
    assert "pip install 'syncd[postgres]'" in str(raised.value)
    assert "\n" not in str(raised.value)
