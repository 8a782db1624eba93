"""``syncd plan create / list / cancel``: a plan over an invoice's open balance whose parts sum to
it exactly, refused in one line (changing nothing) when it cannot be, listed and cancelled."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from method_rows import card_on_file
from report_rows import company, invoice
from sqlalchemy import func, select

from syncd.cli.main import run
from syncd.domain.autopay import ChargeStatus
from syncd.secrets import SecretBox
from syncd.store import autopay
from syncd.store.engine import Database
from syncd.store.models import CustomerRow, InstallmentPlan, PlanInstallment

REALM = "9130350000000001"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> tuple[str, str]:
    """Invoice D40 (100.00 open, customer 7, on autopay with a charge scheduled), D41 paid, D42
    voided, D43 (7.00 open of 10.00)."""
    path = tmp_path / "syncd.toml"
    url = f"sqlite:///{tmp_path}/s.db"
    path.write_text(
        f'secret_key = "{SecretBox.generate()}"\n[database]\nurl = "{url}"\n'
        f'[[company]]\nrealm_id = "{REALM}"\ntimezone = "UTC"\n'
    )
    assert run(["--config", str(path), "migrate"]) == 0
    db = Database(url)
    with db.transaction() as s:
        s.add(company())
        s.add(
            CustomerRow(
                company_id=REALM, qbo_id="7", display_name="Blue Bottle Bakery", currency="USD", updated_at=T0
            )
        )
        s.add(invoice("40", total="100.00"))
        s.add(invoice("41", total="50.00", balance="0.00", status="paid"))
        s.add(invoice("42", total="50.00", status="voided"))
        s.add(invoice("43", total="10.00", balance="7.00", status="partial"))
        s.add(card_on_file("pm_7", REALM, "7", T0))
        autopay.enroll(
            s, realm_id=REALM, customer_id="7", method_id="pm_7", cap=None, consent_reference="a:7", now=T0
        )
        autopay.plan(
            s,
            realm_id=REALM,
            customer_id="7",
            invoice_id="40",
            balance=Decimal("100.00"),
            currency="USD",
            attempt=1,
            charge_on=date(2099, 1, 1),
            method_id="pm_7",
            now=T0,
        )
    db.dispose()
    return str(path), url


def _create(path: str, invoice_ref: str, down: str, count: str, every: str, *more: str) -> list[str]:
    """The ``syncd plan create`` command line for the fixture's company."""
    return [
        *("--config", path, "plan", "create", "--company", REALM, "--invoice", invoice_ref),
        *("--down", down, "--count", count, "--every", every, *more),
    ]


def _plans(url: str) -> list[InstallmentPlan]:
    db = Database(url)
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(InstallmentPlan)))
            s.expunge_all()
            return rows
    finally:
        db.dispose()


def test_create_splits_the_open_balance_exactly_and_autopay_lets_go(
    config: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, url = config
    assert run(_create(path, "D40", "10.00", "3", "month", "--start", "2099-01-31")) == 0
    out = capsys.readouterr().out
    assert "Plan 1 made for invoice D40 (Blue Bottle Bakery)" in out
    assert "down payment" in out and "2099-01-31" in out and "2099-02-28" in out and "2099-04-30" in out
    db = Database(url)
    with db.transaction() as s:
        parts = list(s.scalars(select(PlanInstallment).order_by(PlanInstallment.seq)))
        assert [p.amount for p in parts] == [
            Decimal("10.00"),
            Decimal("30.00"),
            Decimal("30.00"),
            Decimal("30.00"),
        ]
        assert sum(p.amount for p in parts) == Decimal("100.00")
        assert {p.status for p in parts} == {"scheduled"}
        [charge] = autopay.charges_of(s, REALM, "40")
        assert charge.status == ChargeStatus.CANCELLED.value  # never two charges for one balance
    db.dispose()
    assert run(_create(path, "43", "0.01", "3", "week", "--json", "--start", "2099-01-01")) == 0
    made = json.loads(capsys.readouterr().out)
    assert [i["amount"] for i in made["installments"]] == ["0.01", "2.33", "2.33", "2.33"]
    assert [i["due_on"] for i in made["installments"]][1:] == ["2099-01-08", "2099-01-15", "2099-01-22"]


@pytest.mark.parametrize(
    ("invoice_ref", "down", "count", "words"),
    [
        ("D41", "10", "2", "is paid"),
        ("D42", "10", "2", "is voided"),
        ("D99", "10", "2", "no invoice 'D99'"),
        ("D40", "0", "2", "more than zero"),
        ("D40", "100.00", "2", "less than the open balance"),
        ("D40", "250", "2", "less than the open balance"),
        ("D40", "10", "0", "1 or more"),
        ("D40", "ten", "2", "not an amount"),
        ("D40", "NaN", "2", "not an amount"),
    ],
)
def test_impossible_plans_are_refused_in_one_line_and_nothing_is_made(
    config: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    invoice_ref: str,
    down: str,
    count: str,
    words: str,
) -> None:
    path, url = config
    code = run(_create(path, invoice_ref, down, count, "week"))
    err = capsys.readouterr().err
    assert code == 1 and words in err and len(err.strip().splitlines()) == 1, err
    assert _plans(url) == []


def test_one_plan_per_invoice_then_list_and_cancel(
    config: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, url = config
    create = _create(path, "D40", "25", "3", "2weeks", "--start", "2099-01-01")
    assert run(create) == 0
    capsys.readouterr()
    assert run(create) == 1
    assert "already in plan 1" in capsys.readouterr().err
    assert run(["--config", path, "plan", "list", "--company", REALM]) == 0
    out = capsys.readouterr().out
    assert "Plan 1: invoice D40, Blue Bottle Bakery, 100.00 USD every 2weeks: active" in out
    assert "1 plan(s)" in out
    assert run(["--config", path, "plan", "cancel", "1", "--company", "other"]) == 1
    assert "no plan 1 in company other" in capsys.readouterr().err
    assert run(["--config", path, "plan", "cancel", "1"]) == 0
    assert run(["--config", path, "plan", "cancel", "1"]) == 1
    assert "cancelled already" in capsys.readouterr().err
    assert run(["--config", path, "plan", "list", "--company", REALM, "--all", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["plans"]
    assert listed["status"] == "cancelled" and {i["status"] for i in listed["installments"]} == {"cancelled"}
    assert run(create) == 0  # a cancelled plan leaves the invoice free for a new one
    db = Database(url)
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(InstallmentPlan)) == 2
    db.dispose()


def test_no_plan_while_autopay_is_charging_the_invoice(
    config: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, url = config
    db = Database(url)
    with db.transaction() as s:
        [charge] = autopay.charges_of(s, REALM, "40")
        autopay.move(charge, ChargeStatus.CHARGING, now=T0)
    db.dispose()
    assert run(_create(path, "D40", "25", "3", "week")) == 1
    assert "on its way to QuickBooks" in capsys.readouterr().err
    assert _plans(url) == []


def test_a_start_date_in_the_past_is_refused(
    config: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = config
    assert run(_create(path, "D40", "25", "3", "week", "--start", "2001-01-01")) == 1
    assert "in the past" in capsys.readouterr().err
