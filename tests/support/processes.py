"""Real processes for end-to-end tests: started with a command line, their output collected as it
comes, waited on for a pattern, stopped with SIGTERM; and the ``syncd.toml`` fragments they print."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from loopback import healthy, wait_until

# The venv's console script, as an operator types ``syncd``.
SYNCD = str(Path(sys.executable).with_name("syncd"))
FRAGMENT = re.compile(r"# --- syncd\.toml ---\n(.*?)\n# --- end ---", re.DOTALL)


def argv(command: str) -> list[str]:
    """A README command line as this interpreter runs it (``syncd`` is the venv's console script)."""
    words = shlex.split(command)
    if words[0] == "syncd":
        return [SYNCD, *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    return words


class Process:
    """One running command; ``output`` grows as it prints (stdout and stderr together)."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.command = command
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv(command),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)

    @property
    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output, re.DOTALL)
            if found:
                return found
            if self.proc.poll() is not None:
                self._reader.join(2)
                found = re.search(pattern, self.output, re.DOTALL)
                if found:
                    return found
                raise AssertionError(f"{self.command!r} exited {self.proc.returncode}:\n{self.output}")
            time.sleep(0.05)
        raise AssertionError(f"{self.command!r} printed no {pattern!r} in {timeout} s:\n{self.output}")

    def fragment(self, timeout: float = 30.0) -> str:
        """The ``syncd.toml`` text a simulator printed."""
        return self.wait_for(FRAGMENT.pattern, timeout).group(1)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._close()
        return self.proc.returncode

    def _close(self) -> None:
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for a command that ends on its own."""
        try:
            return self.proc.wait(timeout)
        finally:
            self._close()


def signal_when_healthy(
    proc: subprocess.Popen[str], port: int, sig: signal.Signals = signal.SIGTERM
) -> tuple[str, str]:
    """Wait for ``syncd run`` to serve on ``port``, send it ``sig`` and collect (stdout, stderr);
    killed instead if it has not ended by then. A process that never served fails the test with
    what it said: a signal sent into its start-up would only show as an unrelated traceback."""
    try:
        wait_until(
            lambda: proc.poll() is not None or healthy(port),
            timeout=60,
            what=f"syncd run to answer /healthz on port {port}",
        )
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"syncd run ended with {proc.returncode} before it served:\n{out}{err}")
        proc.send_signal(sig)
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def parse_fragment(text: str) -> dict[str, Any]:
    return tomllib.loads(text)
