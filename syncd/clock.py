"""The one source of 'now': aware UTC, replaceable in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


# Only against the simulators (``quickbooks.environment`` a discovery URL): the daemon's time is
# real time plus the offset in seconds written in the file this names, so end-to-end tests can
# move a running ``syncd run`` through days (the simulators' clocks moved by the same offset).
SIMULATED_CLOCK_ENV = "SYNCD_SIMULATED_CLOCK_FILE"
_REREAD_SECONDS = 0.05


class FileOffsetClock:
    """``utcnow()`` plus the offset (seconds, a decimal number) in ``path``, re-read at most every
    50 ms; a missing or empty file is no offset, an unreadable one keeps the last offset read."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._offset = timedelta(0)
        self._read_at = -1.0

    def offset(self) -> timedelta:
        tick = time.monotonic()
        if tick - self._read_at >= _REREAD_SECONDS:
            self._read_at = tick
            try:
                text = Path(self.path).read_text().strip()
                self._offset = timedelta(seconds=float(text)) if text else timedelta(0)
            except FileNotFoundError:
                self._offset = timedelta(0)
            except (OSError, ValueError, OverflowError):
                pass  # a file caught mid-write: the last offset stands
        return self._offset

    def __call__(self) -> datetime:
        return utcnow() + self.offset()
