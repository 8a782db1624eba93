"""A Payment syncd wrote that someone deleted or voided in QBO, over both simulators: the next pull
holds its invoice back from payment (the portal says it is being reviewed), staff get one email
naming the entry and the Stripe payment, and ``syncd entries`` rebooks or releases it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books_loop import (
    advance,
    assert_clean,
    balance,
    books_loop,
    entity,
    open_invoices,
    pay,
    payment,
    qbo,
    refund,
    settle,
)
from loop_harness import Loop
from sqlalchemy import select

from syncd.cli.main import run
from syncd.errors import PermanentError
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.store.models import EntryReview, InvoiceRow, PaymentRow

STAFF = "staff@northwind.test"


def _config(loop: Loop, tmp_path: Path) -> str:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'secret_key = "{loop.ctx.settings.secret_key}"\n'
        f'[database]\nurl = "{loop.ctx.settings.database_url}"\n'
        f'[[company]]\nrealm_id = "{loop.realm}"\npayment_methods = ["card"]\n'
    )
    return str(path)


def _alerts(loop: Loop) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if STAFF in m.to and "held for review" in m.subject]


def _page(loop: Loop, invoice: InvoiceRow) -> str:
    import requests

    answer = requests.get(loop.ctx.links.url(loop.realm, invoice.qbo_id), timeout=10)
    answer.raise_for_status()
    return answer.text


def _paid_then_deleted(loop: Loop) -> tuple[InvoiceRow, PaymentRow]:
    invoice = open_invoices(loop)[0]
    paid = pay(loop, [invoice])
    assert paid.qbo_payment_id is not None and balance(loop, invoice.qbo_id) == 0
    run_cycle(loop.ctx, loop.realm)
    loop.qbo.delete_entity("Payment", paid.qbo_payment_id)
    assert balance(loop, invoice.qbo_id) == invoice.balance
    run_cycle(loop.ctx, loop.realm)
    loop.drain()
    return invoice, paid


def test_a_deleted_payment_holds_its_invoice_and_tells_staff_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with books_loop(tmp_path) as loop:
        invoice, paid = _paid_then_deleted(loop)
        page = _page(loop, invoice)
        assert "being reviewed" in page and "csrf_token" not in page
        sessions_before = len(loop.stripe.objects("checkout.session"))
        with pytest.raises(PermanentError, match="being reviewed"):
            PortalService(loop.ctx).start_payment(loop.ctx.links.token(loop.realm, invoice.qbo_id), None)
        assert len(loop.stripe.objects("checkout.session")) == sessions_before
        # A second pull re-reads the overlap window: still one review, one email.
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        (alert,) = _alerts(loop)
        body = alert.text or ""
        assert str(paid.qbo_payment_id) in alert.subject and invoice.doc_number in alert.subject
        assert str(paid.payment_intent_id) in body and "deleted in QuickBooks" in body
        assert f"syncd entries --company {loop.realm} --rebook {paid.qbo_payment_id}" in body
        assert f"--release {paid.qbo_payment_id}" in body

        config = _config(loop, tmp_path)
        capsys.readouterr()
        assert run(["--config", config, "entries", "--company", loop.realm, "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)["entries"]
        assert listed["entry"] == paid.qbo_payment_id and listed["change"] == "deleted"
        assert listed["stripe_payment"] == paid.payment_intent_id and listed["status"] == "open"

        assert (
            run(
                ["--config", config, "entries", "--company", loop.realm, "--rebook", str(paid.qbo_payment_id)]
            )
            == 0
        )
        assert (
            run(
                ["--config", config, "entries", "--company", loop.realm, "--rebook", str(paid.qbo_payment_id)]
            )
            == 1
        )
        assert "is not under review" in capsys.readouterr().err
        assert "being reviewed" in _page(loop, invoice)  # held until the Payment is written again
        loop.drain()
        with loop.ctx.db.transaction() as s:
            row = s.get(PaymentRow, paid.key)
            assert row is not None and row.qbo_payment_id not in (None, paid.qbo_payment_id)
            rebooked = row.qbo_payment_id
        again = entity(loop, "Payment", rebooked)
        assert Decimal(str(again["TotalAmt"])) == paid.amount
        assert balance(loop, invoice.qbo_id) == 0
        mine = [
            p for p in qbo(loop, "Payment") if str(paid.payment_intent_id) in str(p.get("PrivateNote", ""))
        ]
        assert [p["Id"] for p in mine] == [rebooked]  # the deleted one is gone; one Payment stands
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert "paid in full" in _page(loop, invoice)
        assert len(_alerts(loop)) == 1
        # The audit finds the charge's entry again: the rebooked Payment, not the deleted one.
        assert_clean(loop)


def test_released_entry_lets_the_invoice_be_paid_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with books_loop(tmp_path) as loop:
        invoice, paid = _paid_then_deleted(loop)
        config = _config(loop, tmp_path)
        assert (
            run(
                [
                    "--config",
                    config,
                    "entries",
                    "--company",
                    loop.realm,
                    "--release",
                    str(paid.qbo_payment_id),
                ]
            )
            == 0
        )
        capsys.readouterr()
        assert run(["--config", config, "entries", "--company", loop.realm]) == 0
        assert "0 entries awaiting review" in capsys.readouterr().out
        assert "csrf_token" in _page(loop, invoice)
        url = PortalService(loop.ctx).start_payment(loop.ctx.links.token(loop.realm, invoice.qbo_id), None)
        assert "/pay/cs_" in url


def test_a_voided_payment_is_held_but_syncds_own_void_of_a_returned_debit_is_not(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        first, second = open_invoices(loop)[:2]
        voided = pay(loop, [first])
        returned = pay(loop, [second], "ach_return")
        advance(loop, 7)  # the debit succeeds
        advance(loop, 7)  # and comes back: syncd voids its own Payment
        run_cycle(loop.ctx, loop.realm)
        loop.qbo.void_entity("Payment", str(voided.qbo_payment_id))
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        with loop.ctx.db.transaction() as s:
            held = [(r.qbo_payment_id, r.change) for r in s.scalars(select(EntryReview))]
        assert held == [(voided.qbo_payment_id, "voided")]
        returned = payment(loop, returned.key)
        assert returned.status == "returned" and returned.qbo_payment_id is not None
        assert str(entity(loop, "Payment", returned.qbo_payment_id).get("PrivateNote", "")).startswith(
            "Voided"
        )
        assert "being reviewed" in _page(loop, first)
        assert "being reviewed" not in _page(loop, second)


def test_syncds_own_refund_adjustments_are_not_flagged(tmp_path: Path) -> None:
    with books_loop(tmp_path, refund_reopens_invoice=True) as loop:
        invoice = open_invoices(loop)[0]
        paid = pay(loop, [invoice])
        run_cycle(loop.ctx, loop.realm)
        made = refund(loop, str(paid.payment_intent_id), Decimal("12.25"))
        settle(loop)
        run_cycle(loop.ctx, loop.realm)
        loop.stripe.fail_refund(made)  # the refund comes back: syncd restores its Payment
        settle(loop)
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert Decimal(str(entity(loop, "Payment", paid.qbo_payment_id)["TotalAmt"])) == paid.amount
        with loop.ctx.db.transaction() as s:
            assert [(r.change, r.detail) for r in s.scalars(select(EntryReview))] == []
        assert _alerts(loop) == []


def test_a_payment_lowered_or_moved_by_someone_is_held(tmp_path: Path) -> None:
    with books_loop(tmp_path) as loop:
        first, second = open_invoices(loop)[:2]
        lowered = pay(loop, [first])
        moved = pay(loop, [second])
        run_cycle(loop.ctx, loop.realm)
        half = (first.balance / 2).quantize(Decimal("0.01"))
        loop.qbo.update_entity(
            "Payment",
            str(lowered.qbo_payment_id),
            TotalAmt=str(half),
            Line=[{"Amount": str(half), "LinkedTxn": [{"TxnId": first.qbo_id, "TxnType": "Invoice"}]}],
        )
        elsewhere = loop.qbo.add_invoice(second.customer_id, moved.amount)
        loop.qbo.update_entity(
            "Payment",
            str(moved.qbo_payment_id),
            Line=[{"Amount": str(moved.amount), "LinkedTxn": [{"TxnId": elsewhere, "TxnType": "Invoice"}]}],
        )
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        with loop.ctx.db.transaction() as s:
            held = {r.qbo_payment_id: (r.change, r.detail) for r in s.scalars(select(EntryReview))}
        assert held == {
            lowered.qbo_payment_id: ("changed", f"its amount is now {half} USD"),
            moved.qbo_payment_id: ("changed", f"now applied to invoice id(s) {elsewhere}"),
        }
        assert len(_alerts(loop)) == 2
        assert "being reviewed" in _page(loop, first) and "being reviewed" in _page(loop, second)
