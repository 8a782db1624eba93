"""Issue 9, findings 5 and 6, end to end: the real ``syncd run`` books payments and payouts between
the QBO and Stripe simulators, and ``syncd audit --json`` (the command a bookkeeper types) lists each
thing done to the clearing account in QuickBooks with its type, Id, amount and date; a BHD company's
clearing nets to Stripe's balance to the fils, and a yen payout lands in the yen bank account, held
with one staff email until that account is set."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select
from world import Daemon, PortalClient, World

from syncd.config import Settings
from syncd.links import Links
from syncd.secrets import SecretBox
from syncd.store.models import Effect

STAFF = "staff@northwind.test"
TIMEOUT = 90.0
_SERVER_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "Line", "UnappliedAmt")
BHD_AMOUNTS = (Decimal("12.34"), Decimal("7.77"), Decimal("3.03"))


def _configure(world: World, accounts: str = "") -> Settings:
    settings = world.write_config(staff_email=STAFF)
    text = world.config_path.read_text().replace(
        "reminder_days = []", 'reminder_days = []\nnotify_new_invoices = false\nlink_writeback = "off"'
    )
    world.config_path.write_text(text + accounts)
    return settings


def _audit(world: World, start: date, end: date) -> tuple[int, dict[str, Any]]:
    """``syncd audit --json`` for the period, as a subprocess: its exit code and report."""
    done = world.syncd(
        "audit",
        "--company",
        world.qbo.realm_id,
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--json",
        timeout=120,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def _period(world: World, first: date) -> tuple[date, date]:
    return first - timedelta(days=1), world.stripe.clock.now().date() + timedelta(days=1)


def _audited_clean(world: World, first: date) -> dict[str, Any]:
    """Wait until the daemon has booked everything and the audit (read from QBO) is clean."""
    found: dict[str, Any] = {}

    def clean() -> bool:
        code, report = _audit(world, *_period(world, first))
        found.update(report, code=code)
        return code == 0 and bool(report["clean"])

    world.wait_until(clean, timeout=TIMEOUT, interval=2.0, what=lambda: json.dumps(found, indent=1))
    return found


def _pay(world: World, links: Links, portal: PortalClient, invoice_id: str) -> dict[str, Any]:
    """The customer pays the whole invoice on its page; returns the QBO Payment syncd writes."""
    url = links.url(world.qbo.realm_id, invoice_id)
    world.wait_until(lambda: requests.get(url, timeout=5).status_code == 200, timeout=TIMEOUT, what=url)
    session_id = portal.start_payment(url)
    world.stripe.pay_checkout(session_id, "card_success")
    session = next(s for s in world.stripe.objects("checkout.session") if s["id"] == session_id)
    intent = str(session["payment_intent"])

    def booked() -> list[dict[str, Any]]:
        return [p for p in world.qbo.entities("Payment") if intent in str(p.get("PrivateNote", ""))]

    world.wait_until(lambda: bool(booked()), timeout=TIMEOUT, what=f"the QBO Payment for {intent}")
    (payment,) = booked()
    return payment


def _copy(row: dict[str, Any]) -> dict[str, Any]:
    """What a bookkeeper's "copy" of an entry sends: everything but QBO's own fields."""
    return {k: v for k, v in row.items() if k not in _SERVER_FIELDS}


def _diff(report: dict[str, Any], ref: str) -> dict[str, Any]:
    found = [d for d in report["differences"] if d["ref"] == ref]
    assert found, f"no difference for {ref}: {json.dumps(report['differences'], indent=1)}"
    return found[0]


def _account(world: World, name: str) -> dict[str, Any]:
    return next(a for a in world.qbo.entities("Account") if a["Name"] == name)


def _bank(world: World, name: str, currency: str) -> str:
    return str(
        world.qbo.create_entity(
            "Account", {"Name": name, "AccountType": "Bank", "CurrencyRef": {"value": currency}}
        )
    )


def _customer(world: World, currency: str) -> str:
    """A customer billed in ``currency``: a seeded one, or one the bookkeeper adds."""
    for c in world.qbo.entities("Customer"):
        if c.get("CurrencyRef", {}).get("value") == currency:
            return str(c["Id"])
    return str(
        world.qbo.create_entity(
            "Customer",
            {
                "DisplayName": f"{currency} Trading",
                "CurrencyRef": {"value": currency},
                "PrimaryEmailAddr": {"Address": f"{currency.lower()}@customers.test"},
            },
        )
    )


def test_each_change_to_the_clearing_account_is_listed_by_syncd_audit(
    world: World, daemon: Callable[[], Daemon], portal: PortalClient
) -> None:
    settings = _configure(world, '\n[company.accounts]\nbank = "Checking"\n')
    links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
    first = world.stripe.clock.now().date()
    customer = _customer(world, "USD")
    ids = [world.qbo.add_invoice(customer, amount) for amount in (Decimal("120.00"), Decimal("80.50"))]
    proc = daemon()
    proc.start()
    payments = [_pay(world, links, portal, invoice_id) for invoice_id in ids]
    world.stripe.clock.advance(timedelta(days=5))  # the payout arrives
    world.wait_until(
        lambda: bool(world.qbo.entities("Transfer")), timeout=TIMEOUT, what="the payout Transfer"
    )
    before = _audited_clean(world, first)
    assert before["currencies"]["USD"]["matched"] == before["currencies"]["USD"]["transactions"] >= 3
    assert before["qbo_requests"] >= 1

    # The bookkeeper, in QuickBooks: copies the payout Transfer and a Payment, deposits 500.00 by
    # hand into Stripe Clearing, and moves another Payment's date 60 days back.
    (transfer,) = world.qbo.entities("Transfer")
    transfer_copy = world.qbo.create_entity("Transfer", _copy(transfer))
    payment_copy = world.qbo.create_entity("Payment", _copy(payments[1]))
    income = next(a for a in world.qbo.entities("Account") if a["AccountType"] == "Income")
    today = date.today().isoformat()
    deposit = world.qbo.create_entity(
        "Deposit",
        {
            "DepositToAccountRef": {"value": _account(world, "Stripe Clearing")["Id"]},
            "TxnDate": today,
            "Line": [
                {
                    "Amount": "500.00",
                    "DetailType": "DepositLineDetail",
                    "DepositLineDetail": {"AccountRef": {"value": income["Id"]}},
                }
            ],
        },
    )
    paid_on = date.fromisoformat(payments[0]["TxnDate"])
    moved = paid_on - timedelta(days=60)
    world.qbo.update_entity("Payment", str(payments[0]["Id"]), TxnDate=moved.isoformat())

    code, report = _audit(world, *_period(world, first))
    assert code != 0 and not report["clean"]
    amount = Decimal(str(transfer["Amount"]))
    copied = _diff(report, f"Transfer {transfer_copy}")["problem"]
    assert f"QBO Transfer {transfer_copy} of {amount} dated {transfer['TxnDate']}" in copied
    assert f"a copy of QBO Transfer {transfer['Id']}" in copied
    total = Decimal(str(payments[1]["TotalAmt"]))
    duplicated = _diff(report, f"Payment {payment_copy}")["problem"]
    assert f"QBO Payment {payment_copy} of {total} dated {payments[1]['TxnDate']}" in duplicated
    manual = _diff(report, f"Deposit {deposit}")["problem"]
    assert f"QBO Deposit {deposit} of 500.00 dated {today}" in manual
    assert "into the Stripe clearing account" in manual
    redated = _diff(report, f"Payment {payments[0]['Id']}")
    assert f"dated {moved.isoformat()}" in redated["problem"] and "re-dated" in redated["problem"]
    assert paid_on.isoformat() in redated["action"]
    assert not report["currencies"]["USD"]["agrees"]
    assert proc.stop() == 0, proc.tail()


@pytest.mark.parametrize("world", [{"currencies": ("USD", "BHD", "JPY")}], indirect=True)
def test_bhd_nets_to_the_fils_and_a_yen_payout_waits_for_its_bank(
    world: World, daemon: Callable[[], Daemon], portal: PortalClient
) -> None:
    bhd_bank = _bank(world, "BHD Bank", "BHD")
    yen_bank = _bank(world, "Yen Bank", "JPY")
    accounts = '\n[company.accounts]\nbank = "Checking"\nbanks = { BHD = "BHD Bank" }\n'
    settings = _configure(world, accounts)
    links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
    first = world.stripe.clock.now().date()
    bhd = [world.qbo.add_invoice(_customer(world, "BHD"), amount) for amount in BHD_AMOUNTS]
    yen = world.qbo.add_invoice(_customer(world, "JPY"), Decimal("12345"))
    proc = daemon()
    proc.start()
    for invoice_id in [*bhd, yen]:
        _pay(world, links, portal, invoice_id)
    fees = [
        Decimal(b["fee"]) / 1000
        for b in world.stripe.objects("balance_transaction")
        if b["currency"] == "bhd"
    ]
    assert any(f != f.quantize(Decimal("0.01")) for f in fees)  # Stripe's BHD fees carry a third decimal

    world.stripe.clock.advance(timedelta(days=5))  # a BHD and a JPY payout arrive
    world.wait_until(
        lambda: bool(world.qbo.entities("Deposit")), timeout=TIMEOUT, what="the BHD payout Deposit"
    )
    (payout,) = [p for p in world.stripe.objects("payout") if p["currency"] == "bhd"]
    (deposit,) = world.qbo.entities("Deposit")
    assert deposit["DepositToAccountRef"]["value"] == bhd_bank
    assert Decimal(str(deposit["TotalAmt"])) == (Decimal(payout["amount"]) / 1000).quantize(Decimal("0.01"))
    rounding = _account(world, "Stripe Rounding")["Id"]
    lines = {
        ln["DepositLineDetail"]["AccountRef"]["value"]: Decimal(str(ln["Amount"])) for ln in deposit["Line"]
    }
    assert lines[rounding] != 0  # the fils QBO cannot hold, inside the payout's own entry

    # The yen payout: no JPY bank account configured, so held (never into the dollar Checking).
    def held() -> list[Any]:
        return [m for m in world.sink.mailbox.all() if STAFF in m.to and "payout held" in m.subject.lower()]

    world.wait_until(lambda: bool(held()), timeout=TIMEOUT, what="the payout-held staff email")
    assert "company.accounts.banks.JPY" in (held()[0].text or "")
    assert world.qbo.entities("Transfer") == []
    code, report = _audit(world, *_period(world, first))
    totals = report["currencies"]["BHD"]
    assert Decimal(totals["stripe_net"]) == Decimal(totals["qbo_clearing"]) == 0  # to the fils
    assert Decimal(totals["rounding"]) == 0 and totals["agrees"]
    assert code != 0 and not report["currencies"]["JPY"]["agrees"]  # the held payout is not booked

    # Staff set the yen bank account and restart, as the email says: the payout is booked then.
    assert proc.stop() == 0, proc.tail()
    text = world.config_path.read_text().replace(
        'banks = { BHD = "BHD Bank" }', 'banks = { BHD = "BHD Bank", JPY = "Yen Bank" }'
    )
    world.config_path.write_text(text)
    proc.start()
    world.wait_until(
        lambda: bool(world.qbo.entities("Transfer")), timeout=TIMEOUT, what="the yen payout Transfer"
    )
    (transfer,) = world.qbo.entities("Transfer")
    (yen_payout,) = [p for p in world.stripe.objects("payout") if p["currency"] == "jpy"]
    assert transfer["ToAccountRef"]["value"] == yen_bank
    assert Decimal(str(transfer["Amount"])) == Decimal(yen_payout["amount"])  # whole yen
    final = _audited_clean(world, first)
    assert Decimal(final["currencies"]["BHD"]["stripe_net"]) == Decimal(
        final["currencies"]["BHD"]["qbo_clearing"]
    )
    assert len(held()) == 1
    db = world.database()
    try:
        with db.transaction() as s:
            payout_effects = s.scalars(select(Effect).where(Effect.kind == "qbo.payout")).all()
            assert {e.status for e in payout_effects} == {"done"}
    finally:
        db.dispose()
    assert proc.stop() == 0, proc.tail()
