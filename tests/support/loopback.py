"""Servers tests start on loopback: a free port to give one, and waiting until it answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
import requests


def free_port() -> int:
    """A loopback port nobody listens on right now (the server under test binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.1,
) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` (called then, if callable) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {detail}")
        time.sleep(interval)


def healthy(port: int) -> bool:
    """syncd's web server on ``port`` answers ``/healthz`` with 200."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_healthy(port: int, timeout: float = 60) -> None:
    """Give a starting ``syncd run`` on ``port`` up to ``timeout`` seconds to answer ``/healthz``;
    the caller's own assertions say what it expected if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not healthy(port):
        time.sleep(0.1)
