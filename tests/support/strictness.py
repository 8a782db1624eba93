"""In CI a missing PostgreSQL or browser is a failure, never a skip; elsewhere it is a skip."""

from __future__ import annotations

import os

import pytest


def strict() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or bool(
        os.environ.get("SYNCD_TEST_STRICT")
    )


def unavailable(reason: str) -> None:
    if strict():
        pytest.fail(f"{reason} (CI requires it: nothing may be skipped)")
    pytest.skip(reason)
