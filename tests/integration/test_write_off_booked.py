"""A write-off approved and booked, over the QBO and Stripe simulators (real HTTP): the bad-debt
credit memo and the zero Payment applying it reach QuickBooks once, across a connection lost
between the two writes and a crash after QuickBooks answered; the invoices then read as paid and
the audit stays clean."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import assert_clean, balance, books_loop, entity, open_invoices, pay, qbo
from loop_harness import Loop
from sqlalchemy import select

from syncd.errors import TransientError
from syncd.stages import ladder, writeoffs
from syncd.stages.cycle import run_cycle
from syncd.store.effects import EffectStatus
from syncd.store.models import Effect, InvoiceRow, WriteOff

OWNER = "owner@northwind.test"
ANA = "ana@northwind.test"
COLLECTIONS = {"policy": True, "write_off_below": "50.00", "write_off_item": "9", "hold_after_days": 0}


def _bad_debt_chosen(loop: Loop, item_id: str) -> None:
    """The bookkeeper's choice, as the config file would say it: bad debt, with this item."""
    settings = loop.ctx.settings
    company = settings.company(loop.realm)
    collections = company.collections.model_copy(
        update={"write_off_entry": "bad_debt", "bad_debt_item": item_id}
    )
    changed = company.model_copy(update={"collections": collections})
    loop.ctx.settings = dataclasses.replace(settings, companies=(changed,))


def _effect(loop: Loop) -> Effect:
    with loop.ctx.db.transaction() as s:
        row = s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).one()
        s.expunge(row)
        return row


def _due_now(loop: Loop) -> None:
    """The retry's backoff has passed."""
    with loop.ctx.db.transaction() as s:
        row = s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).one()
        row.next_attempt_at = loop.ctx.clock()


def test_a_write_off_approved_and_booked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with books_loop(tmp_path, collections=COLLECTIONS) as loop:
        ctx, realm = loop.ctx, loop.realm
        expense = loop.qbo.create_entity(
            "Account", {"Name": "Bad Debts", "AccountType": "Expense", "AccountSubType": "BadDebts"}
        )
        item = loop.qbo.create_entity(
            "Item", {"Name": "Bad debt", "Type": "Service", "IncomeAccountRef": {"value": expense}}
        )
        _bad_debt_chosen(loop, item)
        pay(loop, [open_invoices(loop)[0]])  # a card payment, so the audit has money to match

        customer = loop.qbo.create_entity(
            "Customer", {"DisplayName": "Corner Deli", "CurrencyRef": {"value": "USD"}}
        )
        due = ctx.clock().date().replace(day=1)
        first = loop.qbo.add_invoice(customer, Decimal("38.50"), due_date=due.replace(year=due.year - 1))
        second = loop.qbo.add_invoice(
            customer, Decimal("4.25"), due_date=due.replace(year=due.year - 1, month=2)
        )
        run_cycle(ctx, realm)
        with ctx.db.transaction() as s:
            ladder.assign(s, realm, customer, ANA, by=OWNER, now=ctx.clock())
        run_cycle(ctx, realm)  # the ladder run proposes it
        (proposal,) = writeoffs.listing(ctx, realm)
        assert (proposal.customer_id, proposal.amount, proposal.customer_name) == (
            customer,
            Decimal("42.75"),
            "Corner Deli",
        )
        assert "bad debt" in writeoffs.decide(ctx, proposal.id, approve=True, by=OWNER)

        # The connection dies after QuickBooks took the credit memo, before the Payment applying it.
        connector: Any = ctx.qbo(realm)
        create = connector.calls.create
        lost: list[str] = []

        def dies_once(entity_name: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
            if entity_name == "Payment" and not lost:
                lost.append(request_id)
                raise TransientError("connection reset by peer")
            return create(entity_name, body, request_id)

        monkeypatch.setattr(connector.calls, "create", dies_once)
        loop.drain()
        assert lost and _effect(loop).status == EffectStatus.PENDING.value
        assert len(qbo(loop, "CreditMemo")) == 1 and balance(loop, first) == Decimal("38.50")
        _due_now(loop)
        loop.drain()
        assert _effect(loop).status == EffectStatus.DONE.value

        # A crash after QuickBooks answered, before syncd recorded it: the effect runs again.
        with ctx.db.transaction() as s:
            effect = s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).one()
            effect.status = EffectStatus.PENDING.value
            effect.next_attempt_at = ctx.clock()
            row = s.get(WriteOff, proposal.id)
            assert row is not None
            memo_id, row.qbo_id = row.qbo_id, None
        loop.drain()

        (memo,) = qbo(loop, "CreditMemo")
        assert memo["Id"] == memo_id == _effect(loop).remote_id
        assert memo["CustomerRef"]["value"] == customer and memo["DocNumber"] == f"WO-{proposal.id}"
        assert Decimal(str(memo["TotalAmt"])) == Decimal("42.75")
        assert memo["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == item
        assert Decimal(str(memo["RemainingCredit"])) == 0
        applying = [p for p in qbo(loop, "Payment") if p.get("PaymentRefNum") == f"WO-{proposal.id}"]
        assert len(applying) == 1
        (payment,) = applying
        assert Decimal(str(payment["TotalAmt"])) == 0
        linked = {
            (link["TxnType"], link["TxnId"], Decimal(str(line["Amount"])))
            for line in payment["Line"]
            for link in line["LinkedTxn"]
        }
        assert linked == {
            ("Invoice", first, Decimal("38.50")),
            ("Invoice", second, Decimal("4.25")),
            ("CreditMemo", memo_id, Decimal("42.75")),
        }
        assert balance(loop, first) == balance(loop, second) == 0
        assert Decimal(str(entity(loop, "Customer", customer)["Balance"])) == 0

        run_cycle(ctx, realm)  # the next pull reads both invoices paid
        with ctx.db.transaction() as s:
            statuses = {s.get(InvoiceRow, (realm, i)).status for i in (first, second)}  # type: ignore[union-attr]
            assert statuses == {"paid"}
            assert s.get(WriteOff, proposal.id).qbo_id == memo_id  # type: ignore[union-attr]
        assert writeoffs.listing(ctx, realm) == []  # nothing owed: nothing proposed again
        assert_clean(loop)  # a write-off never touches the clearing account
