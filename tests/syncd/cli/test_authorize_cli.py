"""``syncd authorize place / list / release``: a hold queued on the customer's card, listed, and
released; bad input is one line on stderr with exit 1 or 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from method_rows import card_on_file
from sqlalchemy import select

from syncd.cli.main import run
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import CardAuthorizationRow, Company, CustomerRow, Effect

REALM = "9130350000000001"
T0 = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, str]:
    """Customer 7 has a card on file; customer 8 has none."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\n[company.authorizations]\nrelease_days = 5\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Northwind", created_at=T0))
        for qbo_id, name in (("7", "Blue Bottle Bakery"), ("8", "Old Mill")):
            s.add(
                CustomerRow(company_id=REALM, qbo_id=qbo_id, display_name=name, currency="USD", updated_at=T0)
            )
        s.add(card_on_file("pm_7", REALM, "7", T0, is_default=True))
    db.dispose()
    return str(path), url


def test_place_list_and_release(setup: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    config, url = setup
    base = ["--config", config, "authorize"]
    assert (
        run([*base, "place", "--company", REALM, "--customer", "7", "--amount", "150.00", "--note", "Job 7"])
        == 0
    )
    assert "queued" in capsys.readouterr().out
    assert run([*base, "place", "--company", REALM, "--customer", "8", "--amount", "10"]) == 1
    assert "no default card" in capsys.readouterr().err
    assert run([*base, "place", "--company", REALM, "--customer", "7", "--amount", "ten"]) == 2
    assert run([*base, "list", "--company", REALM, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["authorizations"]
    assert [(a["customer_id"], a["amount"], a["status"], a["note"]) for a in listed] == [
        ("7", "150.00", "placing", "Job 7")
    ]
    ident = listed[0]["id"]
    placed, release = (
        datetime.fromisoformat(listed[0]["placed_at"]),
        datetime.fromisoformat(listed[0]["release_at"]),
    )
    assert (release - placed).days == 5
    assert run([*base, "release", "--company", REALM, ident]) == 1  # still being placed
    assert "still being placed" in capsys.readouterr().err
    db = Database(url)
    with db.transaction() as s:
        row = s.get(CardAuthorizationRow, ident)
        assert row is not None
        row.status = "held"
    assert run([*base, "release", "--company", REALM, ident]) == 0
    assert run([*base, "list", "--company", REALM]) == 0
    out = capsys.readouterr().out
    assert ident in out and "releasing" in out and "1 authorisation(s)" in out
    with db.transaction() as s:
        keys = sorted(s.scalars(select(Effect.key)).all())
    assert keys == [f"stripe:authorize:{ident}", f"stripe:release:{ident}"]
    db.dispose()
