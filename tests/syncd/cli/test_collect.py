"""``syncd collect``: assign an account by hand, and the collections-agency CSV (only accounts past
the last step owing at least agency_above; their invoices, reminders sent and promises)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from report_rows import owed
from sqlalchemy import select

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store import collections, effects
from syncd.store.engine import Database
from syncd.store.models import CollectionAccount, Company, CustomerRow, Effect

REALM = "9130350000000001"
NOW = datetime.now(UTC)
TODAY = NOW.date()


@pytest.fixture
def config(tmp_path: Path) -> tuple[str, Database]:
    """Customer 7 (=SUM formula name) owes 900 overdue past the final notice with a broken
    promise; customer 8 owes 40; customer 9 owes 2,000 but has not reached the last step."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n[company.collections]\npolicy = true\nagency_above = "500"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=NOW))
        for qbo_id, name in (("7", "=SUM(A1)"), ("8", "Old Mill"), ("9", "Big Co")):
            s.add(
                CustomerRow(
                    company_id=REALM, qbo_id=qbo_id, display_name=name, currency="USD", updated_at=NOW
                )
            )
        s.flush()
        s.add(owed("70", "7", "600.00", TODAY - timedelta(days=45), number="1070", updated=NOW))
        s.add(owed("71", "7", "300.00", TODAY - timedelta(days=31), number="1071", updated=NOW))
        s.add(owed("80", "8", "40.00", TODAY - timedelta(days=40), number="1080", updated=NOW))
        s.add(owed("90", "9", "2000.00", TODAY - timedelta(days=5), number="1090", updated=NOW))
        for customer in ("7", "8"):
            s.add(CollectionAccount(company_id=REALM, customer_id=customer, escalated_at=NOW))
        s.flush()
        collections.promise(
            s,
            REALM,
            "7",
            on=TODAY - timedelta(days=3),
            amount=Decimal("100"),
            by="ana@x.test",
            today=TODAY,
            now=NOW,
        )
        effects.insert(
            s,
            key=f"email:dunning:{REALM}:7:{TODAY.isoformat()}:30",
            kind="email.dunning",
            company_id=REALM,
            payload={},
            now=NOW,
        )
    return str(path), db


def test_export_lists_the_big_accounts_past_the_last_step(
    config: tuple[str, Database], tmp_path: Path
) -> None:
    path, db = config
    out = tmp_path / "agency.csv"
    with db.transaction() as s:
        for effect in s.scalars(select(Effect)):
            effect.done_at = NOW  # the final notice went out
    assert run(["--config", path, "collect", "export", "--company", REALM, "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["invoice_number"] for r in rows] == ["1070", "1071"]
    first = rows[0]
    assert first["customer_name"] == "'=SUM(A1)"  # never a formula in the agency's spreadsheet
    # The export counts days in the company's today (UTC here), read when it runs: a run that
    # crosses midnight after the fixture must not change the count it is checked against.
    due = date.fromisoformat(first["due_date"])
    assert due == TODAY - timedelta(days=45)
    assert first["balance"] == "600.00"
    assert first["days_overdue"] == str((datetime.now(UTC).date() - due).days)
    assert first["reminders_sent"] == "1" and first["last_reminder"] == NOW.date().isoformat()
    assert first["promises"] == f"100 by {(TODAY - timedelta(days=3)).isoformat()} (open)"


def test_assign_hands_an_account_to_a_collector(
    config: tuple[str, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = config
    assert (
        run(
            [
                "--config",
                path,
                "collect",
                "assign",
                "--company",
                REALM,
                "--customer",
                "9",
                "--to",
                "Ben@x.test",
            ]
        )
        == 0
    )
    assert "assigned to ben@x.test" in capsys.readouterr().out
    with db.transaction() as s:
        account = s.get(CollectionAccount, (REALM, "9"))
        assert account is not None and account.collector == "ben@x.test" and account.assigned_by == "cli"
    assert (
        run(
            [
                "--config",
                path,
                "collect",
                "assign",
                "--company",
                REALM,
                "--customer",
                "404",
                "--to",
                "b@x.test",
            ]
        )
        == 1
    )
    assert "no customer '404'" in capsys.readouterr().err
