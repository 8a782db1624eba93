"""``syncd request-card``: queues one email effect per customer and day; unknown or address-less
customers are one line naming what to do, exit 1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import CardRequest, Company, CustomerRow, Effect

REALM = "9130350000000001"
T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, Database]:
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        '[web]\npublic_url = "https://pay.northwind.test"\n'
        f'[[company]]\nrealm_id = "{REALM}"\npayment_methods = ["card"]\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=T0))
        s.flush()
        s.add(
            CustomerRow(
                company_id=REALM,
                qbo_id="7",
                display_name="Blue Bottle Bakery",
                email="ap@bluebottle.test",
                currency="USD",
                updated_at=T0,
            )
        )
        s.add(
            CustomerRow(company_id=REALM, qbo_id="8", display_name="Old Mill", currency="USD", updated_at=T0)
        )
    return str(path), db


def test_queues_one_email_per_day(setup: tuple[str, Database], capsys: pytest.CaptureFixture[str]) -> None:
    path, db = setup
    argv = ["--config", path, "request-card", "--company", REALM, "--customer", "7", "--reason", "Job #12"]
    assert run(argv) == 0
    assert "Queued an email to ap@bluebottle.test" in capsys.readouterr().out
    assert run(argv) == 0
    assert "nothing new was sent" in capsys.readouterr().out
    with db.transaction() as s:
        emails = s.scalars(select(Effect).where(Effect.kind == "email.card_request")).all()
        assert len(emails) == 1 and emails[0].key.startswith(f"email:card-request:{REALM}:7:")
        request = s.scalars(select(CardRequest)).one()
        assert (request.qbo_customer_id, request.reason) == ("7", "Job #12")


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ("8", "customer 8 has no billing email in QuickBooks: add one to the customer first"),
        ("99", f"customer 99 is not known in company {REALM}"),
    ],
)
def test_refusals_are_one_line(
    setup: tuple[str, Database], capsys: pytest.CaptureFixture[str], customer: str, message: str
) -> None:
    path, db = setup
    assert run(["--config", path, "request-card", "--company", REALM, "--customer", customer]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    with db.transaction() as s:
        assert s.scalars(select(Effect)).all() == []
