"""Small-debt write-offs over the QBO simulator and the loop: an account past the final notice owing
less than write_off_below is proposed once (not when promised, disputed or owing more), staff are
told once; approving re-checks the mirror (refused when paid or changed), declining keeps it from
coming back for the same debt; an approved one becomes one credit memo applied to the invoices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.domain.collections import CallOutcome, WriteOffStatus
from syncd.errors import PermanentError
from syncd.stages import collectors, ladder, writeoffs
from syncd.stages.cycle import run_cycle
from syncd.store import collections
from syncd.store.models import Effect, InvoiceRow, WriteOff

ANA = "ana@northwind.test"
OWNER = "owner@northwind.test"
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
POLICY = {
    "policy": True,
    "steps": ["2:email:reminder_after", "9:email:final_notice"],
    "write_off_below": "60.00",
    "write_off_item": "9",
    "hold_after_days": 0,
}
PROPOSED_SUBJECT = "[syncd] Northwind IT Services: Small debt proposed for write-off"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def write_off_loop(
    tmp_path: Path, database_url: str | None = None, **settings: Any
) -> Iterator[tuple[Loop, Clock]]:
    clock = Clock(START)
    policy = {**POLICY, **settings}
    with running_loop(
        tmp_path,
        invoices=0,
        clock=clock,
        timezone="America/New_York",
        collections=policy,
        database_url=database_url,
    ) as loop:
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        yield loop, clock


def _customers(loop: Loop, n: int) -> list[str]:
    """``n`` new QBO customers (as the bookkeeper adds them)."""
    return [
        loop.qbo.create_entity(
            "Customer", {"DisplayName": f"Small Debtor {i}", "CurrencyRef": {"value": "USD"}}
        )
        for i in range(n)
    ]


def _day(loop: Loop, clock: Clock, when: datetime) -> None:
    clock.now = when
    run_cycle(loop.ctx, loop.realm)
    loop.drain()


def _write_offs(loop: Loop) -> list[WriteOff]:
    with loop.ctx.db.transaction() as s:
        rows = list(s.scalars(select(WriteOff).order_by(WriteOff.id)))
        s.expunge_all()
        return rows


def _alerts(loop: Loop) -> int:
    return sum(m.subject == PROPOSED_SUBJECT for m in loop.sink.mailbox.all())


def _customer_of(loop: Loop, invoice_id: str) -> str:
    with loop.ctx.db.transaction() as s:
        return s.scalars(select(InvoiceRow.customer_id).where(InvoiceRow.qbo_id == invoice_id)).one()


def test_a_small_debt_past_the_final_notice_is_proposed_once(tmp_path: Path) -> None:
    with write_off_loop(tmp_path) as (loop, clock):
        small, large, promised, disputed = _customers(loop, 4)
        due = START.date() + timedelta(days=1)
        first = loop.qbo.add_invoice(small, Decimal("30.00"), due_date=due, email="a@customer.test")
        loop.qbo.add_invoice(small, Decimal("15.00"), due_date=due, email="a@customer.test")
        loop.qbo.add_invoice(large, Decimal("75.00"), due_date=due, email="b@customer.test")
        _day(loop, clock, START)
        # The others reach the ladder by hand; one has a promise open, one disputes its invoice.
        for customer, amount in ((promised, "20.00"), (disputed, "25.00")):
            invoice = loop.qbo.add_invoice(customer, Decimal(amount), due_date=due - timedelta(days=20))
            run_cycle(loop.ctx, loop.realm)
            with loop.ctx.db.transaction() as s:
                ladder.assign(s, loop.realm, customer, ANA, by=OWNER, now=clock.now)
            if customer == promised:
                collectors.promise(
                    loop.ctx,
                    loop.realm,
                    customer,
                    on=due + timedelta(days=30),
                    amount=Decimal(amount),
                    by=ANA,
                )
            else:
                collectors.call(
                    loop.ctx,
                    loop.realm,
                    customer,
                    CallOutcome.DISPUTED,
                    "not ours",
                    by=ANA,
                    invoice_id=invoice,
                )
        before_notice = datetime.combine(due + timedelta(days=8), START.timetz())
        _day(loop, clock, before_notice)
        assert _write_offs(loop) == [] and _alerts(loop) == 0  # the final notice has not gone yet

        _day(loop, clock, before_notice + timedelta(days=1))  # the final notice: past the last step
        (row,) = _write_offs(loop)
        assert (row.customer_id, row.amount, row.currency, row.status) == (
            small,
            Decimal("45.00"),
            "USD",
            "proposed",
        )
        assert _alerts(loop) == 1
        for later in range(2, 5):  # the daily runs that follow propose nothing more, tell nobody again
            _day(loop, clock, before_notice + timedelta(days=later))
        assert [w.id for w in _write_offs(loop)] == [row.id] and _alerts(loop) == 1
        with loop.ctx.db.transaction() as s:
            history = [a.body for a in collections.history(s, loop.realm, small)]
        assert any("proposed for write-off: 45.00 USD" in h for h in history)
        assert _customer_of(loop, first) == small


def test_approve_rechecks_the_mirror_and_decline_keeps_the_same_debt_away(
    tmp_path: Path, database_url: str
) -> None:
    """On both backends (the decision locks the row on PostgreSQL)."""
    with write_off_loop(tmp_path, database_url) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        customer, other = _customers(loop, 2)
        old = START.date() - timedelta(days=40)
        invoice = loop.qbo.add_invoice(customer, Decimal("45.00"), due_date=old)
        paid_later = loop.qbo.add_invoice(other, Decimal("20.00"), due_date=old)
        run_cycle(ctx, realm)
        with ctx.db.transaction() as s:
            for who in (customer, other):
                ladder.assign(s, realm, who, ANA, by=OWNER, now=clock.now)
        _day(loop, clock, START + timedelta(hours=1))
        first, second = _write_offs(loop)
        assert (first.customer_id, first.amount) == (customer, Decimal("45.00"))

        with pytest.raises(PermanentError, match="email of the staff member"):
            writeoffs.decide(ctx, first.id, approve=True, by="nobody")
        with pytest.raises(PermanentError, match="there is no write-off 999"):
            writeoffs.decide(ctx, 999, approve=True, by=OWNER)
        with pytest.raises(PermanentError, match=f"there is no write-off {first.id} in company 42"):
            writeoffs.decide(ctx, first.id, approve=True, by=OWNER, realm_id="42")

        # Part paid in QBO since it was proposed: approving is refused with the new amount.
        loop.qbo.record_offline_payment(invoice, Decimal("5.00"))
        _day(loop, clock, START + timedelta(hours=2))
        with pytest.raises(PermanentError, match=r"owes 40\.00 USD overdue now, not the 45\.00 USD proposed"):
            writeoffs.decide(ctx, first.id, approve=True, by=OWNER)
        # Paid in full: refused, the proposal says so.
        loop.qbo.record_offline_payment(paid_later, Decimal("20.00"))
        _day(loop, clock, START + timedelta(hours=3))
        with pytest.raises(PermanentError, match="has paid meanwhile"):
            writeoffs.decide(ctx, second.id, approve=True, by=OWNER)
        assert "declined" in writeoffs.decide(ctx, second.id, approve=False, by=OWNER)
        with pytest.raises(PermanentError, match="was declined already"):
            writeoffs.decide(ctx, second.id, approve=True, by=OWNER)

        # Declined, the 45.00 proposal is not made again; the 40.00 now owed is, once.
        assert "declined" in writeoffs.decide(ctx, first.id, approve=False, by="Owner@Northwind.test")
        _day(loop, clock, START + timedelta(days=1))
        _day(loop, clock, START + timedelta(days=2))
        rows = _write_offs(loop)
        assert [(w.customer_id, w.amount, w.status) for w in rows] == [
            (customer, Decimal("45.00"), "declined"),
            (other, Decimal("20.00"), "declined"),
            (customer, Decimal("40.00"), "proposed"),
        ]
        assert rows[0].decided_by == OWNER
        assert [w.id for w in writeoffs.listing(ctx, realm)] == [rows[2].id]

        line = writeoffs.decide(ctx, rows[2].id, approve=True, by=OWNER, realm_id=realm)
        assert line.startswith(f"Write-off {rows[2].id} approved: 40.00 USD") and "a credit memo" in line
        with ctx.db.transaction() as s:
            (effect,) = s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).all()
            assert effect.key == f"qbo:write_off:{realm}:{rows[2].id}"
            assert effect.serial_group == f"money:{realm}:{customer}"
            assert effect.payload["invoices"] == [{"invoice_id": invoice, "amount": "40.00"}]
        loop.drain()
        (memo,) = loop.qbo.entities("CreditMemo")
        assert memo["DocNumber"] == f"WO-{rows[2].id}" and Decimal(str(memo["TotalAmt"])) == Decimal("40.00")
        assert memo["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "9"
        assert Decimal(str(memo["RemainingCredit"])) == 0
        assert Decimal(str((loop.qbo.entity("Invoice", invoice) or {})["Balance"])) == 0
        _day(loop, clock, START + timedelta(days=3))  # the pull reads the invoice paid
        with ctx.db.transaction() as s:
            assert s.get(InvoiceRow, (realm, invoice)).status == "paid"  # type: ignore[union-attr]
            done = s.get(WriteOff, rows[2].id)
            assert (
                done is not None
                and done.qbo_id == memo["Id"]
                and done.status == WriteOffStatus.APPROVED.value
            )
        assert len(_write_offs(loop)) == 3  # nothing owed: nothing more proposed
        with pytest.raises(PermanentError, match="was approved already"):
            writeoffs.decide(ctx, rows[2].id, approve=False, by=OWNER)


def test_nothing_is_proposed_while_write_off_below_is_zero(tmp_path: Path) -> None:
    with write_off_loop(tmp_path, write_off_below="0") as (loop, clock):
        customer = _customers(loop, 1)[0]
        loop.qbo.add_invoice(customer, Decimal("5.00"), due_date=START.date() - timedelta(days=40))
        run_cycle(loop.ctx, loop.realm)
        with loop.ctx.db.transaction() as s:
            ladder.assign(s, loop.realm, customer, ANA, by=OWNER, now=clock.now)
        _day(loop, clock, START + timedelta(days=1))
        assert _write_offs(loop) == []


def test_an_invoice_paid_in_quickbooks_before_booking_fails_alone_and_says_so(tmp_path: Path) -> None:
    with write_off_loop(tmp_path) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        paid_meanwhile, fine = _customers(loop, 2)
        old = START.date() - timedelta(days=40)
        invoices = {
            c: loop.qbo.add_invoice(c, Decimal("25.00"), due_date=old) for c in (paid_meanwhile, fine)
        }
        run_cycle(ctx, realm)
        with ctx.db.transaction() as s:
            for customer in invoices:
                ladder.assign(s, realm, customer, ANA, by=OWNER, now=clock.now)
        _day(loop, clock, START + timedelta(hours=1))
        for row in _write_offs(loop):
            writeoffs.decide(ctx, row.id, approve=True, by=OWNER)
        # The check arrives in QuickBooks after the approval, before the daemon books it.
        loop.qbo.record_offline_payment(invoices[paid_meanwhile], Decimal("25.00"))
        loop.drain()
        with ctx.db.transaction() as s:
            states = {
                e.payload["write_off_id"]: (e.status, e.last_error or "")
                for e in s.scalars(select(Effect).where(Effect.kind == "qbo.write_off"))
            }
        by_customer = {w.customer_id: w.id for w in _write_offs(loop)}
        status, error = states[by_customer[paid_meanwhile]]
        assert status == "failed" and "stays as customer credit" in error
        assert states[by_customer[fine]][0] == "done"  # the other one is booked all the same
        assert Decimal(str((loop.qbo.entity("Invoice", invoices[fine]) or {})["Balance"])) == 0
