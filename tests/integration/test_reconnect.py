"""Reconnecting QuickBooks while ``syncd run`` works: ``syncd connect quickbooks`` with the default
redirect URI hands the redirect to the daemon, which stores the tokens and resumes the company."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import requests
from processes import SYNCD
from sqlalchemy import delete
from world import Daemon, World

from syncd.store.models import Secret


def test_connect_quickbooks_works_against_the_running_daemon(world: World, daemon: Any) -> None:
    world.write_config()
    db = world.database()
    try:
        with db.transaction() as session:
            session.execute(delete(Secret))  # the connection is lost (as after invalid_grant)
    finally:
        db.dispose()
    run: Daemon = daemon()
    run.start()
    world.wait_until(lambda: world.company().status == "reconnect_needed", timeout=60, what=run.tail)
    assert world.company().pause_credential == "quickbooks.connection"

    command = subprocess.Popen(
        [SYNCD, "--config", str(world.config_path), "connect", "quickbooks"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert command.stdout is not None
        shown = []
        # Read up to the hand-over line itself: communicate() reads the pipe underneath this
        # iterator's buffer, so a line left in that buffer would be lost to the assertions.
        for line in command.stdout:
            shown.append(line)
            if line.startswith("Waiting for the running syncd"):
                break
        url = next(line.strip() for line in shown if line.startswith("http"))
        # The owner's browser: Intuit's consent, then the redirect to the daemon's own callback.
        page = requests.get(url, timeout=30)
        out, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert page.status_code == 200, page.text
    assert page.url == f"{world.url}/connect/quickbooks/callback?" + page.url.split("?", 1)[1]
    assert f"QuickBooks company {world.qbo.realm_id} is connected" in page.text
    assert command.returncode == 0, err
    assert f"Connected QuickBooks company {world.qbo.realm_id}." in out
    assert "Waiting for the running syncd" in "".join(shown) + out

    world.wait_until(
        lambda: world.company().status == "active" and world.company().last_pull_at is not None,
        timeout=60,
        what=run.tail,
    )
    replayed = requests.get(page.url, timeout=30)
    assert replayed.status_code == 400 and "not started by a waiting" in replayed.text
    assert run.stop() == 0
