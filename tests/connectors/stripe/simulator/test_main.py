from __future__ import annotations

import signal
import subprocess
import sys
import time

import requests
from loopback import free_port


def test_cli_serves_until_terminated() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.stripe.simulator", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "simulator did not come up"
                time.sleep(0.1)
        response = requests.get(
            f"{url}/v1/balance", headers={"Authorization": "Bearer sk_test_sim"}, timeout=5
        )
        assert response.status_code == 200
        assert response.json()["object"] == "balance"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert f"127.0.0.1:{port}" in out.decode()
