"""The command line: init, configuration errors (exit 78), status on an empty store, help everywhere."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd.cli.main import cli, run
from syncd.config import load
from syncd.secrets import SecretBox

COMMANDS = [
    [],
    ["init"],
    ["migrate"],
    ["connect"],
    ["connect", "quickbooks"],
    ["run"],
    ["demo"],
    ["status"],
    ["resume"],
    ["simulate"],
    ["simulate", "quickbooks"],
    ["simulate", "stripe"],
    ["bench"],
    ["audit"],
    ["templates"],
    ["failed"],
    ["holds"],
    ["preview"],
    ["entries"],
    ["request-card"],
    ["report"],
    ["collect"],
    ["collect", "assign"],
    ["collect", "export"],
    ["staff"],
    ["staff", "add"],
    ["staff", "remove"],
    ["staff", "reset"],
    ["staff", "list"],
    ["simulate", "twilio"],
    ["autopay"],
    ["autopay", "list"],
    ["plan"],
    ["plan", "create"],
    ["plan", "list"],
    ["plan", "cancel"],
    ["authorize"],
    ["authorize", "place"],
    ["authorize", "list"],
    ["authorize", "release"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "syncd")
def test_help_on_every_command(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*args, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: syncd" in out
    assert "Options" in out


def test_every_command_is_covered_by_the_help_test() -> None:
    names = set(cli.commands)
    assert names == {a[0] for a in COMMANDS if a}


def test_init_writes_a_loadable_config_with_a_fresh_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "etc" / "syncd.toml"
    assert run(["--config", str(path), "init"]) == 0
    settings = load(path)
    SecretBox(settings.secret_key)  # a valid Fernet key
    assert settings.database_url.endswith("/etc/syncd.db")
    assert (path.stat().st_mode & 0o777) == 0o600
    other = tmp_path / "other.toml"
    assert run(["init", str(other)]) == 0
    assert load(other).secret_key != settings.secret_key
    text = path.read_text()
    assert text.count("#") > 20  # commented


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "syncd.toml"
    assert run(["init", str(path)]) == 0
    before = path.read_text()
    assert run(["init", str(path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert path.read_text() == before
    assert run(["init", str(path), "--force"]) == 0
    assert path.read_text() != before


@pytest.mark.parametrize(
    ("content", "setting"),
    [
        ('secret_key = "x"\n[web]\nport = 99999\n', "web.port"),
        (
            'secret_key = "x"\n[[company]]\nrealm_id = "1"\npayment_methods = ["cash"]\n',
            "company[0].payment_methods",
        ),
        ('secret_key = "x"\nbogus = 1\n', "bogus"),
        ("secret_key = \n", "config"),
        ('secret_key = "not a fernet key"\n', "secret_key"),
    ],
)
def test_bad_config_exits_78_naming_the_setting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    setting: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYNCD_SECRET_KEY", raising=False)
    path = tmp_path / "syncd.toml"
    path.write_text(content)
    assert run(["--config", str(path), "status"]) == 78
    err = capsys.readouterr().err
    assert err.startswith(f"syncd: {setting}: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_config_exits_78(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--config", str(tmp_path / "nope.toml"), "migrate"]) == 78
    assert "syncd init" in capsys.readouterr().err


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.toml"
    monkeypatch.setenv("SYNCD_CONFIG", str(path))
    assert run(["init"]) == 0
    assert path.exists()


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-command"]) == 2
    assert run(["status", "--bogus"]) == 2


def test_status_json_on_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "syncd.toml"
    assert run(["init", str(path)]) == 0
    capsys.readouterr()
    assert run(["--config", str(path), "status", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert "syncd migrate" in captured.err
    assert run(["--config", str(path), "migrate"]) == 0
    capsys.readouterr()
    assert run(["--config", str(path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(["--config", str(path), "status"]) == 0
    assert "No companies" in capsys.readouterr().out


def test_status_lists_configured_companies_after_migrate_and_ensure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncd.bootstrap import build_context
    from syncd.companies import ensure_companies

    path = tmp_path / "syncd.toml"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        '[[company]]\nrealm_id = "4620816365"\n[company.branding]\nname = "Acme <Plumbing>"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    ctx = build_context(load(path))
    ensure_companies(ctx)
    ctx.db.dispose()
    capsys.readouterr()
    assert run(["--config", str(path), "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["realm_id"] for r in rows] == ["4620816365"]
    assert rows[0]["connected"] is False
    assert run(["--config", str(path), "status"]) == 0
    out = capsys.readouterr().out
    assert "4620816365" in out and "not connected" in out


def test_run_without_stripe_key_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "syncd.toml"
    assert run(["init", str(path)]) == 0
    # Not the template's port 8000: another program (or a demo) may hold it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path.write_text(path.read_text().replace("port = 8000", f"port = {port}", 1))
    capsys.readouterr()
    assert run(["--config", str(path), "run"]) == 78
    assert capsys.readouterr().err.startswith("syncd: stripe.api_key: ")


def test_console_script_entry_point_exits_with_code(tmp_path: Path) -> None:
    env = {**os.environ, "SYNCD_CONFIG": str(tmp_path / "missing.toml")}
    done = subprocess.run(
        [sys.executable, "-c", "from syncd.cli.main import main; main()", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    assert "Traceback" not in done.stderr


def test_click_runner_sees_the_same_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "migrate", "connect", "run", "demo", "status", "simulate", "bench"):
        assert name in result.output


def test_templates_exports_the_defaults_without_clobbering(tmp_path: Path) -> None:
    target = tmp_path / "tpl"
    assert run(["templates", str(target)]) == 0
    assert (target / "email" / "invoice_new.html").is_file()
    assert (target / "portal" / "invoice.html").is_file()
    assert (target / "static" / "portal.css").is_file()
    mine = target / "email" / "invoice_new.subject.txt"
    mine.write_text("Mine {{ invoice_number }}")
    assert run(["templates", str(target)]) == 0
    assert mine.read_text() == "Mine {{ invoice_number }}"
    assert run(["templates", str(target), "--force"]) == 0
    assert mine.read_text() != "Mine {{ invoice_number }}"


def test_failed_lists_and_requeues_permanent_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from syncd.store import effects
    from syncd.store.engine import Database

    path = tmp_path / "syncd.toml"
    path.write_text(f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(f"sqlite:///{tmp_path}/s.db")
    now = datetime.now(UTC)
    with db.transaction() as s:
        effects.insert(s, key="qbo:payment:pi_1", kind="qbo.payment", company_id="c1", payload={}, now=now)
    (claimed,) = effects.claim(db, owner="w", now=now)
    effects.fail(db, claimed, error="Business Validation Error: closed period", now=now)
    capsys.readouterr()
    assert run(["--config", str(path), "failed"]) == 1
    assert "closed period" in capsys.readouterr().out
    assert run(["--config", str(path), "failed", "--retry", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["requeued"] == 1 and report["failed"][0]["key"] == "qbo:payment:pi_1"
    assert run(["--config", str(path), "failed"]) == 0
    assert len(effects.claim(db, owner="w2", now=datetime.now(UTC))) == 1
    db.dispose()


def test_failed_and_status_list_a_held_payment_with_its_amount_and_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from syncd.store import effects
    from syncd.store.engine import Database
    from syncd.store.models import Company, CustomerRow, PaymentRow

    path = tmp_path / "syncd.toml"
    path.write_text(f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(f"sqlite:///{tmp_path}/s.db")
    now = datetime.now(UTC)
    with db.transaction() as s:
        s.add(Company(realm_id="c1", name="Northwind", status="active", created_at=now))
        s.flush()
        s.add(
            CustomerRow(
                company_id="c1", qbo_id="7", display_name="Acme Alarm", currency="USD", updated_at=now
            )
        )
        s.add(
            PaymentRow(
                key="pay:1",
                company_id="c1",
                customer_id="7",
                invoice_ids=["42"],
                amount=Decimal("120.00"),
                currency="USD",
                status="succeeded",
                created_at=now,
                updated_at=now,
            )
        )
        effects.insert(
            s,
            key="qbo:payment:pi_1",
            kind="qbo.payment",
            company_id="c1",
            payload={"payment_key": "pay:1"},
            now=now,
        )
    (claimed,) = effects.claim(db, owner="w", now=now)
    effects.hold(db, claimed, error="QBO 401 refused", at=now, now=now)
    db.dispose()
    capsys.readouterr()
    assert run(["--config", str(path), "failed"]) == 1
    out = capsys.readouterr().out
    assert "120.00 USD" in out and "Acme Alarm (7)" in out and "QBO 401 refused" in out
    assert run(["--config", str(path), "status"]) == 0
    out = capsys.readouterr().out
    assert "not in QuickBooks yet" in out and "120.00 USD" in out and "Acme Alarm" in out
    assert run(["--config", str(path), "failed", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["unbooked_charges"][0]["amount"] == "120.00" and report["failed"] == []
