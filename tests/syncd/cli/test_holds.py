"""``syncd holds``: list the customers on credit hold, release one; unknown or not held is exit 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.cli.main import run
from syncd.domain.payments import PaymentStatus
from syncd.secrets import SecretBox
from syncd.store import holds
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow, PaymentRow

REALM = "9130350000000001"
T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, Database]:
    """A migrated store where customer 7 (Blue Bottle Bakery) is on hold after two strikes, and
    customer 8 (Old Mill) is known but not on hold."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\npayment_methods = ["card", "us_bank_account"]\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=T0))
        for qbo_id, name in (("7", "Blue Bottle Bakery"), ("8", "Old Mill")):
            s.add(
                CustomerRow(company_id=REALM, qbo_id=qbo_id, display_name=name, currency="USD", updated_at=T0)
            )
        for key, status in (("p1", PaymentStatus.FAILED), ("p2", PaymentStatus.RETURNED)):
            s.add(
                PaymentRow(
                    key=key,
                    company_id=REALM,
                    customer_id="7",
                    invoice_ids=["1"],
                    amount=Decimal("25.00"),
                    currency="USD",
                    status=status.value,
                    created_at=T0,
                    updated_at=T0,
                )
            )
    with db.transaction() as s:
        holds.place(s, REALM, "7", strikes=2, now=T0)
    return str(path), db


def test_lists_customers_on_hold_with_name_strikes_and_since(
    setup: tuple[str, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = setup
    capsys.readouterr()
    assert run(["--config", config, "holds", "--company", REALM]) == 0
    out = capsys.readouterr().out
    (line,) = [row for row in out.splitlines() if row.startswith("7 ")]
    assert line.split() == ["7", "Blue", "Bottle", "Bakery", "2", "2026-11-02", "15:30", "UTC"]
    assert "Old Mill" not in out and "1 customer(s) on credit hold" in out
    assert run(["--config", config, "holds", "--company", REALM, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["holds"] == [
        {"customer_id": "7", "name": "Blue Bottle Bakery", "strikes": 2, "since": T0.isoformat()}
    ]
    db.dispose()


def test_release_lifts_the_hold_once(setup: tuple[str, Database], capsys: pytest.CaptureFixture[str]) -> None:
    config, db = setup
    capsys.readouterr()
    assert run(["--config", config, "holds", "--company", REALM, "--release", "7"]) == 0
    assert "Blue Bottle Bakery" in capsys.readouterr().out
    with db.transaction() as s:
        assert holds.active(s, REALM, "7") is None
        assert holds.strikes_since_release(s, REALM, "7") == 0
    assert run(["--config", config, "holds", "--company", REALM]) == 0
    assert "0 customer(s) on credit hold" in capsys.readouterr().out
    assert run(["--config", config, "holds", "--company", REALM, "--release", "7"]) == 1
    assert "7 (Blue Bottle Bakery) is not on credit hold" in capsys.readouterr().err
    db.dispose()


@pytest.mark.parametrize(
    ("customer", "message"),
    [("8", "8 (Old Mill) is not on credit hold"), ("999", "999 is not a known customer")],
)
def test_release_of_a_customer_not_on_hold_fails_clearly(
    setup: tuple[str, Database], capsys: pytest.CaptureFixture[str], customer: str, message: str
) -> None:
    config, db = setup
    capsys.readouterr()
    assert run(["--config", config, "holds", "--company", REALM, "--release", customer]) == 1
    assert message in capsys.readouterr().err
    with db.transaction() as s:
        assert holds.active(s, REALM, "7") is not None  # nobody else was released
    db.dispose()


def test_unknown_company_is_a_configuration_error(
    setup: tuple[str, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = setup
    assert run(["--config", config, "holds", "--company", "nope"]) == 78
    assert "nope" in capsys.readouterr().err
    db.dispose()
