"""Fixtures for the console's tests: a migrated store with two companies and a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from staff_console import Clock, console_context

from syncd.context import Context


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(tmp_path: Path, clock: Clock) -> Iterator[Context]:
    yield from console_context(tmp_path, clock)
