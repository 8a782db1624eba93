"""``syncd autopay list``: who is enrolled, with which method and cap, and the next charges; turned
off enrollments only with --all."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from method_rows import card_on_file

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store import autopay
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow

REALM = "9130350000000001"
T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> str:
    """Customer 7 (Blue Bottle Bakery) enrolled with a cap and one charge scheduled; customer 8
    (Old Mill) turned autopay off."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n[company.autopay]\nenabled = true\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=T0))
        for qbo_id, name in (("7", "Blue Bottle Bakery"), ("8", "Old Mill")):
            s.add(
                CustomerRow(company_id=REALM, qbo_id=qbo_id, display_name=name, currency="USD", updated_at=T0)
            )
            s.add(card_on_file(f"pm_{qbo_id}", REALM, qbo_id, T0))
            autopay.enroll(
                s,
                realm_id=REALM,
                customer_id=qbo_id,
                method_id=f"pm_{qbo_id}",
                cap=Decimal("500.00") if qbo_id == "7" else None,
                consent_reference=f"autopay:{qbo_id}",
                now=T0,
            )
        autopay.plan(
            s,
            realm_id=REALM,
            customer_id="7",
            invoice_id="130",
            balance=Decimal("120.00"),
            currency="USD",
            attempt=1,
            charge_on=date(2026, 11, 5),
            method_id="pm_7",
            now=T0,
        )
    with db.transaction() as s:
        row = autopay.enrollment(s, REALM, "8")
        assert row is not None
        autopay.stop(row, "turned off by customer", now=T0)
    db.dispose()
    return str(path)


def test_lists_enrolled_customers_with_method_cap_and_next_charge(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", config, "autopay", "list", "--company", REALM]) == 0
    out = capsys.readouterr().out
    assert "Blue Bottle Bakery" in out and "Visa ending 4242" in out and "500.00" in out
    assert "120.00 USD on 2026-11-05" in out and "Old Mill" not in out
    assert "1 customer(s) enrolled" in out
    assert run(["--config", config, "autopay", "list", "--company", REALM, "--all", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["enrollments"]
    assert [(e["customer_id"], e["stop_reason"]) for e in listed] == [
        ("7", None),
        ("8", "turned off by customer"),
    ]
    assert listed[0]["scheduled"] == [
        {"invoice_id": "130", "amount": "120.00", "currency": "USD", "on": "2026-11-05"}
    ]
