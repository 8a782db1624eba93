"""The audit over in-process fakes of both connectors: what it calls clean, every kind of
difference it reports (with an action), payouts in transit, JSON, and the CLI's exit codes."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from syncd import config
from syncd.audit import run_audit
from syncd.cli import main as cli_main
from syncd.cli.options import CliState
from syncd.context import Context
from syncd.domain import (
    AccountRef,
    BalanceTxn,
    BooksAccounts,
    Payout,
    PayoutStatus,
    QboEntry,
    QboEntryRef,
    QboPosting,
)
from syncd.ports.email import Mailer
from syncd.ports.quickbooks import QboApp, QuickBooks, RequestCounts
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.stages.books.movements import link, record
from syncd.store import books_accounts, effects
from syncd.store.engine import Database

REALM = "4620816365"
DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ACCOUNTS = BooksAccounts(
    currency="USD",
    clearing=AccountRef("90", "Stripe Clearing"),
    fee_expense=AccountRef("91", "Stripe Fees"),
    bank=AccountRef("35", "Checking"),
    stripe_vendor=AccountRef("92", "Stripe"),
    refund_income=AccountRef("1", "Sales"),
)


def txn(
    txn_id: str, type_: str, amount: str, fee: str = "0", source: str = "ch_1", at: datetime = AT
) -> BalanceTxn:
    return BalanceTxn(
        id=txn_id,
        type=type_,
        source_id=source,
        amount=Decimal(amount),
        fee=Decimal(fee),
        net=Decimal(amount) - Decimal(fee),
        currency="USD",
        exchange_rate=None,
        created=at,
        available_on=at + timedelta(days=2),
    )


@dataclass
class FakeStripe:
    txns: list[BalanceTxn] = field(default_factory=list)
    payouts: dict[str, Payout] = field(default_factory=dict)

    def balance_txns(self, *, created_from: datetime, created_to: datetime) -> Iterator[BalanceTxn]:
        return iter([t for t in self.txns if created_from <= t.created < created_to])

    def get_payout(self, payout_id: str) -> Payout:
        return self.payouts[payout_id]


@dataclass
class FakeQbo:
    entries: dict[tuple[str, str], QboEntry] = field(default_factory=dict)
    reads: int = 0

    def clearing_postings(
        self, account_ids: Collection[str], start: date, end: date, known: Mapping[str, Collection[str]]
    ) -> list[QboPosting]:
        """The whole read is one request, as the connector's batched queries are for a small period."""
        self.reads += 1
        out = []
        for (entity, qbo_id), e in self.entries.items():
            dated = e.txn_date is not None and start <= e.txn_date <= end and e.account_id in account_ids
            if dated or qbo_id in known.get(entity, ()):
                signed = e.amount if entity in ("Payment", "Deposit") else -e.amount
                out.append(
                    QboPosting(
                        entity,
                        qbo_id,
                        e.account_id,
                        signed,
                        e.txn_date,
                        e.currency,
                        e.exchange_rate,
                        e.voided,
                        "",
                    )
                )
        return out

    def counts(self) -> RequestCounts:
        return RequestCounts(reads=self.reads, writes=0, batches=0, throttled=0)

    def put(
        self, entity: str, qbo_id: str, amount: str, account: str = "90", voided: bool = False
    ) -> QboEntryRef:
        self.entries[(entity, qbo_id)] = QboEntry(entity, qbo_id, Decimal(amount), DAY, account, voided)
        return QboEntryRef(entity, qbo_id, "0")


@dataclass
class Fakes:
    """syncd's context over in-process fakes of both connectors, with one company's accounts:
    nothing on the network (unlike the simulator-backed ``Loop`` and ``World`` in tests/support)."""

    ctx: Context
    stripe: FakeStripe
    qbo: FakeQbo

    def book_charge(self, t: BalanceTxn, payment_id: str = "501", fee_id: str = "502") -> None:
        pay = self.qbo.put("Payment", payment_id, str(t.amount))
        fee = self.qbo.put("Purchase", fee_id, str(t.fee))
        with self.ctx.db.transaction() as s:
            record(s, REALM, t, link("payment", pay, t.amount), link("fee", fee, -t.fee))

    def audit(self) -> Any:
        return run_audit(self.ctx, REALM, DAY, DAY)


def settings(tmp_path: Path) -> config.Settings:
    return config.parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
            "company": [{"realm_id": REALM, "accounts": {"bank": "Checking"}}],
        }
    )


@pytest.fixture
def world(sqlite_db: Database, tmp_path: Path) -> Fakes:
    stripe, qbo = FakeStripe(), FakeQbo()
    ctx = Context(
        settings=settings(tmp_path),
        db=sqlite_db,
        box=SecretBox(SecretBox.generate()),
        qbo_factory=lambda realm: cast(QuickBooks, qbo),
        stripe=cast(Stripe, stripe),
        mailer=cast(Mailer, None),
        qbo_app=cast(QboApp, None),
        clock=lambda: AT,
    )
    with sqlite_db.transaction() as s:
        books_accounts.keep(s, REALM, ACCOUNTS, now=AT)
    return Fakes(ctx, stripe, qbo)


def test_a_booked_charge_and_fee_is_clean(world: Fakes) -> None:
    charge = txn("txn_1", "charge", "100.00", "3.20")
    world.stripe.txns.append(charge)
    world.book_charge(charge)
    report = world.audit()
    assert report.clean, report.to_text()
    totals = report.totals["USD"]
    assert totals.stripe_net == totals.qbo_clearing == Decimal("96.80")
    assert world.qbo.reads == 1 and report.qbo_requests == 1
    assert "clean" in report.to_text()


def test_a_transaction_syncd_never_saw_is_listed_with_what_to_do(world: Fakes) -> None:
    world.stripe.txns.append(txn("txn_2", "charge", "50.00", "1.75"))
    report = world.audit()
    assert not report.clean
    (diff,) = report.differences
    assert diff.ref == "txn_2" and "never queued" in diff.problem and "backfill" in diff.action
    assert diff.line().startswith("DIFF USD txn_2: ")


def test_pending_and_failed_effects_are_named(world: Fakes) -> None:
    world.stripe.txns += [
        txn("txn_3", "charge", "10.00", "0.59"),
        txn("txn_4", "refund", "-5.00", source="re_4"),
    ]
    with world.ctx.db.transaction() as s:
        effects.insert(s, key="qbo:fee:txn_3", kind="qbo.fee", company_id=REALM, payload={}, now=AT)
        effects.insert(s, key="qbo:refund:re_4", kind="qbo.refund", company_id=REALM, payload={}, now=AT)
    (claimed,) = effects.claim(world.ctx.db, owner="t", now=AT, kinds=["qbo.refund"])
    effects.fail(world.ctx.db, claimed, error="QBO said no", now=AT)
    problems = {d.ref: d for d in world.audit().differences}
    assert "still being written" in problems["txn_3"].problem
    assert "QBO said no" in problems["txn_4"].problem and "retry qbo:refund:re_4" in problems["txn_4"].action


def test_an_entry_edited_or_deleted_in_quickbooks_is_a_difference(world: Fakes) -> None:
    charge = txn("txn_5", "charge", "80.00", "2.62")
    world.stripe.txns.append(charge)
    world.book_charge(charge)
    world.qbo.put("Purchase", "502", "2.00")  # the bookkeeper changed the fee
    report = world.audit()
    assert not report.clean
    assert any(d.ref == "Purchase 502" and "shows 2.00" in d.problem for d in report.differences)
    assert not report.totals["USD"].agrees
    del world.qbo.entries[("Payment", "501")]
    assert any("no longer exists" in d.problem for d in world.audit().differences)


def test_an_entry_in_the_wrong_account_is_a_difference(world: Fakes) -> None:
    charge = txn("txn_6", "charge", "20.00", "0.88")
    world.stripe.txns.append(charge)
    world.book_charge(charge)
    world.qbo.put("Payment", "501", "20.00", account="4")
    assert any("not the clearing account" in d.problem for d in world.audit().differences)


def test_a_movement_stripe_does_not_list_is_a_difference(world: Fakes) -> None:
    world.book_charge(txn("txn_ghost", "charge", "12.00", "0.65"))
    (diff,) = world.audit().differences
    assert diff.ref == "txn_ghost" and "Stripe lists no such" in diff.problem


def test_a_wrongly_booked_amount_is_a_difference(world: Fakes) -> None:
    charge = txn("txn_7", "charge", "30.00", "1.17")
    world.stripe.txns.append(charge)
    pay = world.qbo.put("Payment", "601", "30.00")
    with world.ctx.db.transaction() as s:
        record(s, REALM, charge, link("payment", pay, charge.amount))  # the fee never booked
    (diff,) = world.audit().differences
    assert diff.ref == "txn_7" and "booked in QBO as 30.00" in diff.problem


def test_a_payout_in_transit_is_a_note_not_a_difference(world: Fakes) -> None:
    charge = txn("txn_8", "charge", "100.00", "3.20")
    out = txn("txn_po", "payout", "-96.80", source="po_1")
    world.stripe.txns += [charge, out]
    world.stripe.payouts["po_1"] = Payout(
        "po_1", Decimal("96.80"), "USD", PayoutStatus.IN_TRANSIT, AT + timedelta(days=1), AT, "txn_po"
    )
    world.book_charge(charge)
    report = world.audit()
    assert report.clean, report.to_text()
    assert report.totals["USD"].in_transit == Decimal("-96.80")
    assert any("po_1" in n and "in transit" in n for n in report.notes)


def test_json_report_carries_totals_and_differences(world: Fakes) -> None:
    world.stripe.txns.append(txn("txn_9", "charge", "10.00", "0.59"))
    data = world.audit().to_json()
    assert data["clean"] is False
    assert data["currencies"]["USD"]["stripe_net"] == "9.41"
    assert data["differences"][0]["ref"] == "txn_9" and data["differences"][0]["action"]
    json.dumps(data)


def test_cli_exit_codes(world: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(CliState, "context", lambda self: world.ctx)
    monkeypatch.setattr(world.ctx.db, "dispose", lambda: None)
    conf = tmp_path / "syncd.toml"
    conf.write_text(f'secret_key = "{SecretBox.generate()}"\n[[company]]\nrealm_id = "{REALM}"\n')
    args = ["--config", str(conf), "audit", "--company", REALM, "--from", "2026-03-10", "--to", "2026-03-10"]
    assert cli_main.run(args) == 0
    assert "clean" in capsys.readouterr().out
    world.stripe.txns.append(txn("txn_10", "charge", "10.00", "0.59"))
    assert cli_main.run([*args, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["clean"] is False
    bad = ["--config", str(conf), "audit", "--company", "nope", "--from", "2026-03-10", "--to", "2026-03-10"]
    assert cli_main.run(bad) == 78


def test_a_payment_stripe_converted_is_compared_at_its_exchange_rate(world: Fakes) -> None:
    # 100.00 CAD charged, settled as 73.00 USD: the QBO Payment stays in CAD at Stripe's rate.
    charge = txn("txn_fx", "charge", "73.00", "2.42")
    world.stripe.txns.append(charge)
    world.book_charge(charge)
    world.qbo.entries[("Payment", "501")] = QboEntry(
        "Payment", "501", Decimal("100.00"), DAY, "90", False, "CAD", Decimal("0.73")
    )
    report = world.audit()
    assert report.clean, report.to_text()
    world.qbo.entries[("Payment", "501")] = QboEntry(
        "Payment", "501", Decimal("100.00"), DAY, "90", False, "CAD", Decimal("0.74")
    )
    assert any("shows 74.00" in d.problem for d in world.audit().differences)
