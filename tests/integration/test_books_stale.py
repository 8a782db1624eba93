"""A charge Stripe took is always booked (issue 9, findings 1 and 2), over both simulators: the
invoice changed in QBO while its Checkout Session was open and no webhook told syncd, a change
between syncd's read and its write, several payments for one invoice at once, and QBO refusing
the Payment for a reason syncd cannot outwait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import assert_clean, balance, books_loop, entity, invoice, payment, settle
from loop_harness import Loop
from sqlalchemy import select

from syncd.companies import CompanyStatus, set_status
from syncd.stages.books import charges
from syncd.stages.collect import open_attempt
from syncd.stages.cycle import run_cycle
from syncd.stages.events import ingest
from syncd.status import company_reports
from syncd.store import effects
from syncd.store.models import Effect, InvoiceRow


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    with books_loop(tmp_path, allow_partial=True) as running:
        yield running


def _customer(loop: Loop) -> str:
    return str(loop.qbo.entities("Customer")[0]["Id"])


def _new_invoices(loop: Loop, *amounts: str) -> list[InvoiceRow]:
    customer = _customer(loop)
    ids = [loop.qbo.add_invoice(customer, Decimal(a)) for a in amounts]
    run_cycle(loop.ctx, loop.realm)
    return [invoice(loop, i) for i in ids]


def open_checkouts(
    loop: Loop, invoices: list[InvoiceRow], n: int = 1, amount: str | None = None
) -> list[str]:
    """``n`` payment attempts for ``invoices`` (tabs of one payer), each with its Checkout Session."""
    keys = []
    now = loop.ctx.clock()
    with loop.ctx.db.transaction() as s:
        for i in range(n):
            key = f"pay:{loop.realm}:{'+'.join(x.qbo_id for x in invoices)}:{now.timestamp()}:{i}"
            total = Decimal(amount) if amount else sum((x.balance for x in invoices), Decimal(0))
            open_attempt(s, key=key, invoices=invoices, amount=total, now=now)
            keys.append(key)
    loop.drain()
    return keys


def checkout(loop: Loop, key: str) -> str:
    row = payment(loop, key)
    assert row.checkout_session_id is not None
    return row.checkout_session_id


def lower(loop: Loop, invoice_id: str, amount: str) -> None:
    """The bookkeeper edits the invoice down in QBO (no webhook reaches syncd)."""
    line = entity(loop, "Invoice", invoice_id)["Line"][0]
    line = {**line, "Amount": amount}
    line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": amount}
    loop.qbo.update_invoice(invoice_id, Line=[line])


def qbo_payment(loop: Loop, key: str) -> dict[str, Any]:
    row = payment(loop, key)
    assert row.qbo_payment_id, f"no QBO Payment for {key}"
    return entity(loop, "Payment", row.qbo_payment_id)


def applied(found: dict[str, Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in found.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked["TxnType"] == "Invoice":
                out[linked["TxnId"]] = out.get(linked["TxnId"], Decimal(0)) + Decimal(str(line["Amount"]))
    return out


def staff_mail(loop: Loop, word: str) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if word in m.subject.lower()]


def no_failed_effects(loop: Loop) -> None:
    with loop.ctx.db.transaction() as s:
        failed = s.scalars(select(Effect).where(Effect.status == "failed")).all()
        assert not failed, [(e.key, e.last_error) for e in failed]


def test_an_invoice_lowered_in_qbo_while_its_checkout_was_open_is_paid_and_the_rest_is_credit(
    loop: Loop,
) -> None:
    (inv,) = _new_invoices(loop, "300.00")
    (key,) = open_checkouts(loop, [inv])
    lower(loop, inv.qbo_id, "100.00")  # syncd's mirror still says 300.00 open
    loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    settle(loop)
    found = qbo_payment(loop, key)
    assert Decimal(str(found["TotalAmt"])) == Decimal("300.00")
    assert applied(found) == {inv.qbo_id: Decimal("100.00")}
    assert Decimal(str(found["UnappliedAmt"])) == Decimal("200.00")
    assert balance(loop, inv.qbo_id) == 0
    (told,) = staff_mail(loop, "credit")
    assert "lowered, paid another way or voided" in told.text
    no_failed_effects(loop)
    run_cycle(loop.ctx, loop.realm)
    assert_clean(loop)


def test_a_two_invoice_payment_after_one_was_paid_by_check_applies_the_other_and_keeps_the_rest(
    loop: Loop,
) -> None:
    first, second = _new_invoices(loop, "100.00", "100.00")
    (key,) = open_checkouts(loop, [first, second])
    loop.qbo.record_offline_payment(second.qbo_id, Decimal("100.00"))
    loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    settle(loop)
    found = qbo_payment(loop, key)
    assert applied(found) == {first.qbo_id: Decimal("100.00")}
    assert Decimal(str(found["UnappliedAmt"])) == Decimal("100.00")
    assert balance(loop, first.qbo_id) == balance(loop, second.qbo_id) == 0
    assert len(staff_mail(loop, "credit")) == 1
    no_failed_effects(loop)
    assert_clean(loop)


def test_a_payment_for_an_invoice_voided_meanwhile_is_all_credit(loop: Loop) -> None:
    (inv,) = _new_invoices(loop, "80.00")
    (key,) = open_checkouts(loop, [inv])
    loop.qbo.void_invoice(inv.qbo_id)
    loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    settle(loop)
    found = qbo_payment(loop, key)
    assert applied(found) == {} and Decimal(str(found["UnappliedAmt"])) == Decimal("80.00")
    no_failed_effects(loop)
    assert_clean(loop)


def test_a_check_recorded_between_syncds_read_and_its_write_is_met_by_reading_again(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    (inv,) = _new_invoices(loop, "150.00")
    (key,) = open_checkouts(loop, [inv])
    qbo = loop.ctx.qbo(loop.realm)
    real = qbo.get_invoices
    raced: list[str] = []

    def racing(ids: Any) -> Any:
        found = real(ids)
        if not raced:  # the bookkeeper records a check right after syncd read the balance
            raced.append(loop.qbo.record_offline_payment(inv.qbo_id, Decimal("50.00")))
        return found

    monkeypatch.setattr(qbo, "get_invoices", racing)
    loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    settle(loop)
    found = qbo_payment(loop, key)
    assert applied(found) == {inv.qbo_id: Decimal("100.00")}
    assert Decimal(str(found["UnappliedAmt"])) == Decimal("50.00")
    with loop.ctx.db.transaction() as s:
        row = effects.get(s, f"qbo:payment:{payment(loop, key).payment_intent_id}")
        assert row is not None and row.status == "done"
        assert row.payload[charges.ROUND] == 1 and row.payload[charges.REFUSED] == 1
    notes = [p["PrivateNote"] for p in loop.qbo.entities("Payment") if key in str(p.get("PrivateNote"))]
    assert len(notes) == 1
    no_failed_effects(loop)
    assert_clean(loop)


def test_four_tabs_paying_one_invoice_at_once_are_all_booked_one_after_another(loop: Loop) -> None:
    (inv,) = _new_invoices(loop, "300.00")
    keys = open_checkouts(loop, [inv], n=4)
    for key in keys:
        loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    loop.drain()  # the four QBO Payments are due together: the worker runs eight at a time
    payments = [qbo_payment(loop, key) for key in keys]
    assert sum((sum(applied(p).values(), Decimal(0)) for p in payments), Decimal(0)) == Decimal("300.00")
    assert sum((Decimal(str(p["UnappliedAmt"])) for p in payments), Decimal(0)) == Decimal("900.00")
    assert balance(loop, inv.qbo_id) == 0
    no_failed_effects(loop)
    assert_clean(loop)


def test_a_payment_qbo_refuses_for_good_is_held_listed_told_once_and_booked_once_fixed(loop: Loop) -> None:
    (inv,) = _new_invoices(loop, "120.00")
    (key,) = open_checkouts(loop, [inv])
    loop.qbo.faults.unauthorized_next(1_000_000)  # the QBO connection is refused from now on
    loop.stripe.pay_checkout(checkout(loop, key), "card_success")
    settle(loop)
    with loop.ctx.db.transaction() as s:
        (held,) = charges.unbooked(s, loop.realm)
    assert held.amount == Decimal("120.00") and held.customer and inv.customer_id in held.customer
    (status,) = company_reports(loop.ctx)
    assert status.charges_unbooked == 1 and status.effects_failed == 0
    assert status.status == CompanyStatus.RECONNECT.value  # resumed by the scheduler on new tokens
    for _ in range(2):  # retried on its own: still refused, still one email
        loop.stripe.clock.advance(timedelta(minutes=20))
        settle(loop)
    assert len(staff_mail(loop, "not in quickbooks")) == 1
    loop.qbo.faults.reset()
    set_status(loop.ctx, loop.realm, CompanyStatus.ACTIVE)  # reconnected: what the scheduler does
    loop.stripe.clock.advance(timedelta(minutes=20))
    settle(loop)
    assert applied(qbo_payment(loop, key)) == {inv.qbo_id: Decimal("120.00")}
    with loop.ctx.db.transaction() as s:
        assert charges.unbooked(s) == []
    no_failed_effects(loop)
    assert_clean(loop)
