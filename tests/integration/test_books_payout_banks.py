"""A payout goes to a bank account of its own currency, over both simulators: a yen payout into the
yen bank account; without one it is held (one staff email), never written into the dollar bank, and
booked once the setting is added."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

from books_loop import advance, assert_clean, books_loop, open_invoices, pay, qbo
from loop_harness import Loop
from sqlalchemy import select

from syncd.stages.cycle import run_cycle
from syncd.store.models import Effect

YEN_BANK = "Yen Bank"


def _yen_bank(loop: Loop) -> str:
    return loop.qbo.create_entity(
        "Account",
        {
            "Name": YEN_BANK,
            "AccountType": "Bank",
            "AccountSubType": "Checking",
            "CurrencyRef": {"value": "JPY"},
        },
    )


def _pay_yen(loop: Loop) -> None:
    customer = next(c for c in qbo(loop, "Customer") if c.get("CurrencyRef", {}).get("value") == "JPY")
    loop.qbo.add_invoice(customer["Id"], Decimal("12345"))
    run_cycle(loop.ctx, loop.realm)
    pay(loop, [i for i in open_invoices(loop, "JPY") if i.total == Decimal("12345")])


def _yen_payout(loop: Loop) -> dict[str, Any]:
    (payout,) = [p for p in loop.stripe.objects("payout") if p["currency"] == "jpy"]
    return payout


def _held_mails(loop: Loop) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if "payout held" in m.subject.lower()]


def test_a_yen_payout_goes_to_the_yen_bank_account(tmp_path: Path) -> None:
    with books_loop(tmp_path, currencies=("USD", "JPY"), accounts={"banks": {"JPY": YEN_BANK}}) as loop:
        bank = _yen_bank(loop)
        _pay_yen(loop)
        advance(loop, 5)
        payout = _yen_payout(loop)
        (transfer,) = qbo(loop, "Transfer")
        assert transfer["ToAccountRef"]["value"] == bank
        assert Decimal(str(transfer["Amount"])) == Decimal(payout["amount"])  # zero-decimal: whole yen
        assert transfer["CurrencyRef"]["value"] == "JPY"
        assert_clean(loop)


def test_a_payout_without_a_bank_of_its_currency_is_held_then_booked_once_set(tmp_path: Path) -> None:
    with books_loop(tmp_path, currencies=("USD", "JPY")) as loop:
        bank = _yen_bank(loop)
        _pay_yen(loop)
        advance(loop, 5)
        assert _yen_payout(loop)["status"] == "paid"
        assert qbo(loop, "Transfer") == []  # never into the dollar Checking account
        with loop.ctx.db.transaction() as s:
            effect = s.scalars(select(Effect).where(Effect.kind == "qbo.payout")).one()
            assert effect.status == "pending" and "company.accounts.banks.JPY" in (effect.last_error or "")
        advance(loop, 1)
        advance(loop, 1)
        (mail,) = _held_mails(loop)  # one email, however often the payout is tried
        assert "company.accounts.banks.JPY" in (mail.text or "")
        company = loop.ctx.settings.companies[0]
        accounts = dataclasses.replace(company.accounts, banks=(("JPY", YEN_BANK),))
        loop.ctx.settings = dataclasses.replace(
            loop.ctx.settings, companies=(company.model_copy(update={"accounts": accounts}),)
        )
        advance(loop, 1)
        (transfer,) = qbo(loop, "Transfer")
        assert transfer["ToAccountRef"]["value"] == bank
        assert len(_held_mails(loop)) == 1
        assert_clean(loop)
