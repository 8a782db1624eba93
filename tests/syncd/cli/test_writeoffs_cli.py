"""``syncd collect writeoffs`` lists the proposals; ``syncd collect writeoff approve|decline ID --by``
decides one: approving queues the QBO entry once, and is refused in one line when the balance
changed, when it was decided already or when there is no such write-off."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from report_rows import owed
from sqlalchemy import select

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import CollectionAccount, Company, CustomerRow, Effect, InvoiceRow, WriteOff

REALM = "9130350000000001"
NOW = datetime.now(UTC)
TODAY = NOW.date()


@pytest.fixture
def config(tmp_path: Path) -> tuple[str, Database]:
    """Customers 7 (owes 30.00) and 8 (owes 12.00) past the final notice, each proposed."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n[company.collections]\npolicy = true\n'
        'write_off_below = "50"\nwrite_off_entry = "bad_debt"\nbad_debt_item = "21"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=NOW))
        for qbo_id, name, balance in (("7", "Corner Deli", "30.00"), ("8", "Old \x1b[31mMill", "12.00")):
            s.add(
                CustomerRow(
                    company_id=REALM, qbo_id=qbo_id, display_name=name, currency="USD", updated_at=NOW
                )
            )
            s.flush()
            s.add(
                owed(
                    f"{qbo_id}0",
                    qbo_id,
                    balance,
                    TODAY - timedelta(days=45),
                    number=f"10{qbo_id}0",
                    updated=NOW,
                )
            )
            s.add(CollectionAccount(company_id=REALM, customer_id=qbo_id, escalated_at=NOW))
            s.add(
                WriteOff(
                    company_id=REALM,
                    customer_id=qbo_id,
                    amount=Decimal(balance),
                    currency="USD",
                    status="proposed",
                    proposed_at=NOW,
                )
            )
    return str(path), db


def _ids(db: Database) -> dict[str, int]:
    with db.transaction() as s:
        return {w.customer_id: w.id for w in s.scalars(select(WriteOff))}


def test_list_approve_and_decline(config: tuple[str, Database], capsys: pytest.CaptureFixture[str]) -> None:
    path, db = config
    ids = _ids(db)
    assert run(["--config", path, "collect", "writeoffs", "--company", REALM]) == 0
    out = capsys.readouterr().out
    assert "Corner Deli" in out and "30.00 USD" in out and "Old ?[31mMill" in out  # no terminal escapes
    assert f"2 write-off(s) waiting for a decision in company {REALM}" in out
    assert run(["--config", path, "collect", "writeoffs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["write_offs"]
    assert [(w["customer_id"], w["amount"], w["status"]) for w in listed] == [
        ("7", "30.00", "proposed"),
        ("8", "12.00", "proposed"),
    ]

    approve = ["--config", path, "collect", "writeoff", "approve", str(ids["7"]), "--by", "Owner@x.test"]
    assert run(approve) == 0
    assert "approved: 30.00 USD of Corner Deli (customer 7)" in capsys.readouterr().out
    assert run(approve) == 1  # decided already: one line, nothing queued twice
    assert (
        capsys.readouterr().err.strip()
        == f"syncd: write-off {ids['7']} was approved already (by owner@x.test)"
    )
    with db.transaction() as s:
        (effect,) = s.scalars(select(Effect).where(Effect.kind == "qbo.write_off"))
        assert effect.key == f"qbo:write_off:{REALM}:{ids['7']}"
        assert effect.payload["entry"] == "bad_debt" and effect.payload["item_id"] == "21"

    assert (
        run(["--config", path, "collect", "writeoff", "decline", str(ids["8"]), "--by", "owner@x.test"]) == 0
    )
    assert "declined" in capsys.readouterr().out
    assert run(["--config", path, "collect", "writeoffs", "--company", REALM]) == 0
    assert "0 write-off(s) waiting" in capsys.readouterr().out
    assert run(["--config", path, "collect", "writeoffs", "--company", REALM, "--all"]) == 0
    out = capsys.readouterr().out
    assert "approved by owner@x.test" in out and "declined by owner@x.test" in out


def test_approving_a_changed_balance_or_an_unknown_write_off_is_refused(
    config: tuple[str, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = config
    ids = _ids(db)
    with db.transaction() as s:
        row = s.get(InvoiceRow, (REALM, "70"))
        assert row is not None
        row.balance = Decimal("25.00")  # part paid in QBO since the proposal
    assert run(["--config", path, "collect", "writeoff", "approve", str(ids["7"]), "--by", "o@x.test"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"syncd: write-off {ids['7']} not approved: Corner Deli (customer 7) owes 25.00 USD"
    )
    assert "\n" not in err
    assert run(["--config", path, "collect", "writeoff", "approve", "999", "--by", "o@x.test"]) == 1
    assert "there is no write-off 999" in capsys.readouterr().err
    with db.transaction() as s:
        assert s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).all() == []
        assert {w.status for w in s.scalars(select(WriteOff))} == {"proposed"}
