"""A tiny sd_notify: READY/WATCHDOG/STOPPING to systemd over $NOTIFY_SOCKET; a no-op without it."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping

import structlog

log = structlog.get_logger(__name__)


def _address(env: Mapping[str, str]) -> str | None:
    addr = env.get("NOTIFY_SOCKET")
    if not addr:
        return None
    # "@name" is a socket in the abstract namespace, spelt with a leading NUL on the wire.
    return "\0" + addr[1:] if addr.startswith("@") else addr


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``READY=1``); True when a notify socket was there to send to."""
    addr = _address(os.environ if env is None else env)
    if addr is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(addr)
            sock.sendall(state.encode())
        return True
    except OSError as exc:
        log.warning("sd_notify_failed", state=state.split("=")[0], error=str(exc))
        return False


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked for."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2 / 1_000_000


class Watchdog:
    """Pings WATCHDOG=1 at half the watchdog period while ``healthy()`` says so; when it stops
    saying so the pings stop and systemd restarts the service."""

    def __init__(
        self, healthy: Callable[[], bool], env: Mapping[str, str] | None = None, interval: float | None = None
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._interval = interval if interval is not None else watchdog_interval(self._env)
        self._healthy = healthy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0

    def start(self) -> Watchdog:
        if self._interval is not None and _address(self._env) is not None:
            self._thread = threading.Thread(target=self._loop, name="sd-watchdog", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        assert self._interval is not None
        while not self._stop.wait(self._interval):
            if self._healthy() and notify("WATCHDOG=1", self._env):
                self.pings += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
