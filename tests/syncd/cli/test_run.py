"""``syncd run`` as systemd runs it: READY=1 once serving, watchdog pings, SIGTERM → STOPPING=1 and
exit 0. Plus the sd_notify helper on its own (path and abstract sockets, no-op without one)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from loopback import free_port, wait_until
from processes import signal_when_healthy

from connectors.stripe.simulator import StripeSimulator
from syncd import sdnotify
from syncd.secrets import SecretBox


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    yield sock, path
    sock.close()


def receive_until(sock: socket.socket, wanted: str, timeout: float = 30) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            break
        seen.append(message)
        if wanted in message:
            return seen
    raise AssertionError(f"{wanted} not received; got {seen}")


def test_notify_is_a_no_op_without_socket() -> None:
    assert sdnotify.notify("READY=1", env={}) is False
    assert sdnotify.watchdog_interval({}) is None


def test_notify_over_a_path_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    assert sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": path})
    assert sock.recv(100) == b"READY=1"


def test_notify_over_an_abstract_socket() -> None:
    name = f"syncd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("STOPPING=1", env={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"STOPPING=1"


def test_watchdog_interval_is_half_the_period_and_only_for_us() -> None:
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "junk"}) is None


def test_watchdog_pings_only_while_healthy(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    healthy = [True]
    refused = [0]  # times the watchdog asked and heard "unhealthy"

    def ask() -> bool:
        answer = healthy[0]
        refused[0] += not answer
        return answer

    dog = sdnotify.Watchdog(ask, env={"NOTIFY_SOCKET": path}, interval=0.02).start()
    try:
        assert sock.recv(100) == b"WATCHDOG=1"
        healthy[0] = False
        # Once it has heard "unhealthy", any ping begun before has been counted.
        wait_until(lambda: refused[0] >= 1, timeout=10, what="the watchdog to ask again", interval=0.01)
        before = dog.pings
        wait_until(lambda: refused[0] >= 5, timeout=10, what="four more unhealthy answers", interval=0.01)
        assert dog.pings == before
    finally:
        dog.stop()


@pytest.fixture
def stripe_sim() -> Iterator[StripeSimulator]:
    with StripeSimulator() as sim:
        yield sim


def _config(tmp_path: Path, stripe_sim: StripeSimulator, port: int, *, public_url: bool = False) -> Path:
    config = tmp_path / "syncd.toml"
    web = f'public_url = "http://127.0.0.1:{port}"\n' if public_url else ""
    config.write_text(
        f'secret_key = "{SecretBox.generate()}"\nlog_level = "warning"\n'
        f'[database]\nurl = "sqlite:///{tmp_path}/syncd.db"\n'
        f"[web]\n{web}port = {port}\n"
        f'[stripe]\napi_key = "{stripe_sim.api_key}"\nwebhook_secret = "whsec_x"\n'
        f'api_base = "{stripe_sim.url}"\n'
    )
    return config


def _spawn_run(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from syncd.cli.main import main; main()", "--config", str(config), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_serves_notifies_and_stops_cleanly_on_sigterm(
    tmp_path: Path, notify_socket: tuple[socket.socket, str], stripe_sim: StripeSimulator
) -> None:
    sock, path = notify_socket
    port = free_port()
    config = _config(tmp_path, stripe_sim, port, public_url=True)
    proc = _spawn_run(config, {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    try:
        receive_until(sock, "READY=1", timeout=60)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        receive_until(sock, "WATCHDOG=1", timeout=10)
        proc.send_signal(signal.SIGTERM)
        receive_until(sock, "STOPPING=1", timeout=20)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_run_stops_on_sigint_too(tmp_path: Path, stripe_sim: StripeSimulator) -> None:
    port = free_port()
    config = _config(tmp_path, stripe_sim, port)
    proc = _spawn_run(config, {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"})
    _, err = signal_when_healthy(proc, port, signal.SIGINT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_run_on_a_port_held_by_another_program_is_a_configuration_clash(
    tmp_path: Path, stripe_sim: StripeSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncd.cli.main import run

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = _config(tmp_path, stripe_sim, port)
        assert run(["--config", str(config), "run"]) == 78
    err = capsys.readouterr().err
    assert f"web.port: 127.0.0.1:{port} is in use by another program" in err
    assert "Traceback" not in err
