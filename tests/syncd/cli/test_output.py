"""Text from QuickBooks is printed by ``syncd status``, ``holds`` and ``failed`` without the control
characters it may carry (terminal escapes, carriage returns, bidi overrides, line breaks)."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.cli.main import run
from syncd.cli.text import shown
from syncd.secrets import SecretBox
from syncd.store import effects, holds
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow

REALM = "9130350000000001"
T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
# Clears the screen, rewrites the line, reverses what follows, then starts a new line.
HOSTILE = "Acme\x1b[2J\x1b]0;pwned\x07\rFAKE\u202eevil\u2028next\nline\x00"


def _controls(text: str) -> list[str]:
    return [repr(c) for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name=HOSTILE, created_at=T0))
        s.add(CustomerRow(company_id=REALM, qbo_id="7", display_name=HOSTILE, currency="USD", updated_at=T0))
    with db.transaction() as s:
        holds.place(s, REALM, "7", strikes=2, now=T0)
        effects.insert(s, key="email:invoice:x", kind="email.invoice", company_id=REALM, payload={}, now=T0)
    (claimed,) = effects.claim(db, owner="t", now=T0, limit=1)
    effects.fail(db, claimed, error=f"QBO said: {HOSTILE}", now=T0)
    db.dispose()
    return str(path)


@pytest.mark.parametrize(
    "args",
    [["status"], ["holds", "--company", REALM], ["holds", "--company", REALM, "--release", "7"], ["failed"]],
    ids=["status", "holds", "release", "failed"],
)
def test_no_control_characters_reach_the_terminal(
    config: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    capsys.readouterr()
    run(["--config", config, *args])
    out = capsys.readouterr().out
    assert "Acme" in out and "FAKE" in out
    assert _controls(out) == []
    assert not [line for line in out.splitlines() if line.startswith(("line", "next", "FAKE"))]


def test_json_keeps_the_text_escaped(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["--config", config, "status", "--json"]) == 0
    out = capsys.readouterr().out
    assert _controls(out) == []
    assert json.loads(out)[0]["name"] == HOSTILE


def test_shown_keeps_printable_text() -> None:
    assert shown("Blue Bottle Bakery — Zürich 東京") == "Blue Bottle Bakery — Zürich 東京"
    assert shown(None) == "" and shown("a\tb\x1b[31m") == "a?b?[31m"
