"""``syncd connect quickbooks --paste`` against the QBO simulator's OAuth endpoints: the tokens end
up encrypted in the store and ``status`` shows the company connected."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from processes import SYNCD

from connectors.quickbooks.simulator import QboSimulator
from syncd.cli.main import run
from syncd.secrets import SecretBox


@pytest.fixture
def qbo() -> Iterator[QboSimulator]:
    with QboSimulator(invoices=10) as sim:
        yield sim


def write_config(tmp_path: Path, qbo: QboSimulator, realm: str) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path}/syncd.db"\n'
        "[quickbooks]\n"
        f'environment = "{qbo.discovery_url}"\napi_base_url = "{qbo.api_base_url}"\n'
        'client_id = "sim-client"\nclient_secret = "sim-secret"\n'
        'redirect_uri = "http://localhost:9/callback"\n'
        f'[[company]]\nrealm_id = "{realm}"\n'
    )
    return path


def test_connect_by_pasting_the_redirect(
    tmp_path: Path, qbo: QboSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, qbo, qbo.realm_id)

    def browser(prompt: str, **kwargs: object) -> str:
        # What the owner does: open the printed address, consent, copy where the browser went.
        shown = capsys.readouterr().out
        found = re.search(r"https?://\S+", shown)
        assert found is not None, shown
        consent = requests.get(found.group(0), allow_redirects=False, timeout=10)
        assert consent.status_code in (302, 303, 307)
        return consent.headers["location"]

    monkeypatch.setattr("syncd.cli.commands.click.prompt", browser)
    assert run(["--config", str(config), "connect", "quickbooks", "--paste"]) == 0
    assert f"Connected QuickBooks company {qbo.realm_id}" in capsys.readouterr().out
    assert run(["--config", str(config), "migrate"]) == 0
    from syncd.bootstrap import build_context
    from syncd.companies import ensure_companies
    from syncd.config import load
    from syncd.context import token_store

    ctx = build_context(load(config))
    ensure_companies(ctx)
    stored = token_store(ctx).load(qbo.realm_id)
    ctx.db.dispose()
    assert stored is not None
    capsys.readouterr()
    assert run(["--config", str(config), "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["realm_id"], r["connected"]) for r in rows] == [(qbo.realm_id, True)]
    # Encrypted at rest: the refresh token appears nowhere in the database files.
    for db_file in tmp_path.glob("syncd.db*"):
        assert stored.refresh_token.encode() not in db_file.read_bytes()


def test_connecting_an_unconfigured_company_prints_the_table_to_add(
    tmp_path: Path, qbo: QboSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, qbo, "1111")

    def browser(prompt: str, **kwargs: object) -> str:
        found = re.search(r"https?://\S+", capsys.readouterr().out)
        assert found is not None
        return requests.get(found.group(0), allow_redirects=False, timeout=10).headers["location"]

    monkeypatch.setattr("syncd.cli.commands.click.prompt", browser)
    assert run(["--config", str(config), "connect", "quickbooks", "--paste"]) == 0
    assert f'realm_id = "{qbo.realm_id}"' in capsys.readouterr().out


def test_a_forged_redirect_is_refused(
    tmp_path: Path, qbo: QboSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, qbo, qbo.realm_id)
    monkeypatch.setattr(
        "syncd.cli.commands.click.prompt",
        lambda prompt, **kw: "http://localhost:9/callback?code=x&state=forged&realmId=1",
    )
    assert run(["--config", str(config), "connect", "quickbooks", "--paste"]) == 1
    assert "state" in capsys.readouterr().err


def test_listen_on_a_busy_port_is_one_line_naming_the_port(tmp_path: Path, qbo: QboSimulator) -> None:
    config = write_config(tmp_path, qbo, qbo.realm_id)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config.write_text(
            config.read_text().replace("http://localhost:9/callback", f"http://127.0.0.1:{port}/callback")
        )
        proc = subprocess.run(
            [SYNCD, "--config", str(config), "connect", "quickbooks"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 78
    assert proc.stderr.splitlines() == [
        f"syncd: quickbooks.redirect_uri: 127.0.0.1:{port} is in use by another program, not syncd: free "
        "that port, register a redirect URI on a free one, or use --paste"
    ]
    assert "Open this address" not in proc.stdout
