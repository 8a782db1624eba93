"""The simulated clock: real time plus the offset in a file, honoured only with the QBO simulator
on this machine (a real QuickBooks refuses it with a clear error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.bootstrap import process_clock
from syncd.clock import SIMULATED_CLOCK_ENV, FileOffsetClock, utcnow
from syncd.config import parse
from syncd.errors import ConfigError
from syncd.secrets import SecretBox


def _settings(tmp_path: Path, **quickbooks: Any) -> Any:
    return parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
            "quickbooks": {
                "client_id": "c",
                "client_secret": "s",
                "webhook_verifier_token": "verifier-token",
                **quickbooks,
            },
            "company": [{"realm_id": "1"}],
        }
    )


def _near(moment: datetime, expected: datetime) -> bool:
    return abs(moment - expected) < timedelta(seconds=5)


def test_the_file_moves_the_clock_and_a_torn_write_keeps_the_last_offset(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    assert _near(FileOffsetClock(str(path))(), datetime.now(UTC))  # no file: real time
    path.write_text("-86400.5\n")
    clock = FileOffsetClock(str(path))
    assert _near(clock(), datetime.now(UTC) - timedelta(days=1))
    assert clock().tzinfo is not None
    path.write_text("three days")
    clock._read_at = -1.0  # past the re-read interval
    assert clock.offset() == timedelta(days=-1, seconds=-0.5)
    path.write_text("")
    clock._read_at = -1.0
    assert clock.offset() == timedelta(0)


def test_only_the_simulator_on_this_machine_honours_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator = {
        "environment": "http://127.0.0.1:12110/discovery",
        "api_base_url": "http://127.0.0.1:12110/v3",
    }
    assert process_clock(_settings(tmp_path, **simulator)) is utcnow  # not set: real time
    monkeypatch.setenv(SIMULATED_CLOCK_ENV, str(tmp_path / "offset"))
    assert isinstance(process_clock(_settings(tmp_path, **simulator)), FileOffsetClock)
    for environment in ("production", "sandbox", "https://developer.intuit.example/discovery"):
        extra = {"api_base_url": "https://qbo.example/v3"} if environment.startswith("http") else {}
        with pytest.raises(ConfigError, match="honoured only with the QBO simulator"):
            process_clock(_settings(tmp_path, environment=environment, **extra))
