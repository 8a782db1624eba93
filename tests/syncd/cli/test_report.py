"""``syncd report``: every report as a table, CSV or JSON from the configured store; bad input is
one line and a usage exit."""

from __future__ import annotations

import csv
import io
import json

import pytest
from report_app import seed
from report_rows import REALM

from syncd.cli import report as command
from syncd.cli.main import run
from syncd.reports.run import NAMES
from syncd.secrets import SecretBox
from syncd.store.engine import Database


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One configured, migrated and seeded store for the module: the command only reads."""
    tmp_path = tmp_path_factory.mktemp("report")
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\ntimezone = "America/Chicago"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    seed(db)
    db.dispose()
    return str(path)


def test_the_cli_knows_every_report() -> None:
    assert command.NAMES == NAMES


def test_csv_json_and_table_agree(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--config", config, "report", "aging", "--company", REALM, "--as-of", "2026-03-02"]
    capsys.readouterr()
    assert run([*base, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == [
        "currency",
        "customer_id",
        "customer",
        "current",
        "1-30",
        "31-60",
        "61-90",
        "90+",
        "total",
    ]
    assert ["USD", "", "TOTAL", "80.00", "20.00", "0.00", "0.00", "45.50", "145.50"] in rows
    assert run([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [list(r.values()) for r in data["rows"]] == rows[1:]
    assert run(base) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Accounts receivable aging: company {REALM}, as_of 2026-03-02\n")
    assert "Café <Ünïcode> & Co" in text and "145.50" in text


@pytest.mark.parametrize("name", NAMES)
def test_every_report_runs(config: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--config", config, "report", name, "--company", REALM, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == name


def test_collections_by_month_from_a_day(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--config", config, "report", "collections", "--company", REALM, "--as-of", "2026-02-28"]
    assert run([*argv, "--from", "2026-02-01", "--by", "month", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["period"], r["currency"], r["total"], r["card"], r["invoice_email"]) for r in rows] == [
        ("2026-02-01", "USD", "100.00", "100.00", "100.00")
    ]


def test_bad_input(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--config", config, "report", "dso", "--company", REALM]
    assert run([*argv, "--from", "2026-04-01", "--as-of", "2026-03-01"]) == 2
    assert "the first day is after the as-of day" in capsys.readouterr().err
    assert run(["--config", config, "report", "aging", "--company", "nope"]) == 78
    assert "no company 'nope' is configured" in capsys.readouterr().err
    assert run(["--config", config, "report", "sales", "--company", REALM]) == 2
