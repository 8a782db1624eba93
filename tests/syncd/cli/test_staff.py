"""``syncd staff add|list|reset|remove``: the first owner from the command line, a one-time
password shown once, and a reset or removal that ends every session and forgets every passkey."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from staff_console import cheap_hashing

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store import staff as roster
from syncd.store import staff_passkeys, staff_sessions
from syncd.store.engine import Database
from syncd.store.models import StaffSession

REALM = "9130350000000001"
ONE_TIME = re.compile(r"One-time password[^:]*: (\S+)")


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


@pytest.fixture
def config(tmp_path: Path) -> tuple[list[str], Database]:
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    yield ["--config", str(path)], db
    db.dispose()


def _sessions(db: Database, email: str) -> list[StaffSession]:
    with db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        return [row for row in s.query(StaffSession).filter_by(staff_id=user.id) if row.revoked_at is None]


def _passkeys(db: Database, email: str) -> list[str]:
    with db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        return [k.credential_id for k in staff_passkeys.keys_of(s, user.id)]


def test_add_prints_a_one_time_password_that_signs_in(
    config: tuple[list[str], Database], capsys: pytest.CaptureFixture[str]
) -> None:
    base, db = config
    assert (
        run(
            [*base, "staff", "add", "Ann@Example.com", "--company", REALM, "--role", "owner", "--name", "Ann"]
        )
        == 0
    )
    out = capsys.readouterr().out
    found = ONE_TIME.search(out)
    assert found and "ann@example.com is owner" in out
    with db.transaction() as s:
        user = roster.find(s, "ann@example.com")
        assert user is not None and user.password_temporary
        assert roster.check_password(user.password_hash, found.group(1))
        assert found.group(1) not in (user.password_hash or "")
    # Adding a known person to a role again prints no password.
    assert run([*base, "staff", "add", "ann@example.com", "--company", REALM, "--role", "bookkeeper"]) == 0
    assert "One-time password" not in capsys.readouterr().out
    assert run([*base, "staff", "list"]) == 0
    assert f"{REALM}:bookkeeper" in capsys.readouterr().out


def test_add_refuses_an_unknown_company_and_role(config: tuple[list[str], Database]) -> None:
    base, _db = config
    assert run([*base, "staff", "add", "a@b.c", "--company", "404", "--role", "owner"]) != 0
    assert run([*base, "staff", "add", "a@b.c", "--company", REALM, "--role", "emperor"]) == 2


def test_reset_and_remove_end_every_session(
    config: tuple[list[str], Database], capsys: pytest.CaptureFixture[str]
) -> None:
    base, db = config
    assert run([*base, "staff", "add", "ann@example.com", "--company", REALM, "--role", "owner"]) == 0
    first = ONE_TIME.search(capsys.readouterr().out)
    assert first
    with db.transaction() as s:
        user = roster.find(s, "ann@example.com")
        assert user is not None
        for _ in range(2):
            staff_sessions.open_session(s, user.id, totp_pending=False, now=user.created_at)
        for n in range(2):
            staff_passkeys.add(s, user.id, f"cred-{n}", b"key", 0, now=user.created_at)
    assert len(_sessions(db, "ann@example.com")) == 2
    assert len(_passkeys(db, "ann@example.com")) == 2
    assert run([*base, "staff", "reset", "ann@example.com"]) == 0
    out = capsys.readouterr().out
    second = ONE_TIME.search(out)
    assert second and second.group(1) != first.group(1)
    assert "passkeys were forgotten" in out
    assert _sessions(db, "ann@example.com") == []
    assert _passkeys(db, "ann@example.com") == []  # a lost phone's passkey signs in no more
    with db.transaction() as s:
        user = roster.find(s, "ann@example.com")
        assert user is not None
        staff_passkeys.add(s, user.id, "cred-new", b"key", 0, now=user.created_at)
    assert run([*base, "staff", "remove", "ann@example.com"]) == 0
    assert _passkeys(db, "ann@example.com") == []
    assert run([*base, "staff", "list"]) == 0
    assert "(removed)" in capsys.readouterr().out
    assert run([*base, "staff", "reset", "nobody@example.com"]) == 1
