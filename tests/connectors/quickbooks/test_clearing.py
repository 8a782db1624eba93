"""Reading the clearing accounts over HTTP against the QBO simulator: signed postings per account,
the invoices a Payment is applied to, entries known by Id whatever their date, one batch request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks import clearing
from connectors.quickbooks.client import QboConnector
from syncd.domain import QboDepositDraft, QboPaymentDraft, QboPaymentLine, QboPurchaseDraft, QboTransferDraft
from syncd.ports.quickbooks import AccountNames

Make = Callable[..., QboConnector]


def _invoice(sim: Any) -> dict[str, Any]:
    return next(
        i
        for i in sim.entities("Invoice")
        if Decimal(str(i["Balance"])) == Decimal(str(i["TotalAmt"])) > 0
        and i["CurrencyRef"]["value"] == "USD"
    )


@pytest.fixture
def booked(sim: Any, token_store: Any, make_sim_connector: Make) -> dict[str, Any]:
    """A Payment, its fee, a payout Transfer, a rounded payout Deposit and a Payment dated long ago."""
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    books = qbo.ensure_accounts("USD", AccountNames(bank="Checking"))
    assert books.bank is not None
    clear, bank = books.clearing.qbo_id, books.bank.qbo_id
    today = datetime.now(UTC).date()
    invoice = _invoice(sim)
    amount = Decimal(str(invoice["Balance"]))

    def pay(day: Any, key: str, lines: tuple[QboPaymentLine, ...]) -> str:
        draft = QboPaymentDraft(
            invoice["CustomerRef"]["value"],
            Decimal("5.00") if not lines else amount,
            "USD",
            day,
            clear,
            lines,
            key,
            f"Stripe payment {key}",
        )
        return qbo.create_payment(draft, request_id=key).qbo_id

    payment = pay(today, "pi_1", (QboPaymentLine(invoice["Id"], amount),))
    old = pay(today - timedelta(days=90), "pi_old", ())
    fee = qbo.create_purchase(
        QboPurchaseDraft(
            books.stripe_vendor.qbo_id,
            clear,
            books.fee_expense.qbo_id,
            amount=Decimal("3.20"),
            currency="USD",
            txn_date=today,
            memo="fee",
            reference="txn_1",
        ),
        request_id="fee",
    ).qbo_id
    transfer = qbo.create_transfer(
        QboTransferDraft(
            clear,
            bank,
            amount=Decimal("40.00"),
            currency="USD",
            txn_date=today,
            memo="Stripe payout po_1",
            reference="po_1",
        ),
        request_id="po_1",
    ).qbo_id
    deposit = qbo.create_deposit(
        QboDepositDraft(
            bank,
            clear,
            amount=Decimal("10.01"),
            currency="USD",
            txn_date=today,
            memo="Stripe payout po_2",
            reference="po_2",
            rounding_account_id=books.fee_expense.qbo_id,
            rounding=Decimal("0.01"),
        ),
        request_id="po_2",
    ).qbo_id
    return {
        "qbo": qbo,
        "clear": clear,
        "bank": bank,
        "today": today,
        "invoice": invoice["Id"],
        "amount": amount,
        "payment": payment,
        "old": old,
        "fee": fee,
        "transfer": transfer,
        "deposit": deposit,
    }


def test_postings_to_clearing_are_signed_and_read_in_one_batch(booked: dict[str, Any]) -> None:
    qbo, clear, today = booked["qbo"], booked["clear"], booked["today"]
    before = qbo.counts()
    found = qbo.clearing_postings([clear], today, today, {"Payment": [booked["old"]]})
    after = qbo.counts()
    assert (after.batches - before.batches, after.reads - before.reads) == (1, 0)
    got = {(p.entity, p.qbo_id): p for p in found}
    assert got[("Payment", booked["payment"])].amount == booked["amount"]
    assert got[("Payment", booked["payment"])].invoice_ids == (booked["invoice"],)
    assert got[("Purchase", booked["fee"])].amount == Decimal("-3.20")
    assert got[("Transfer", booked["transfer"])].amount == Decimal("-40.00")
    deposit = got[("Deposit", booked["deposit"])]
    assert (
        deposit.amount == Decimal("-10.00") and deposit.account_id == clear
    )  # the rounding line is not clearing's
    old = got[("Payment", booked["old"])]  # known by Id, dated 90 days before the period
    assert old.txn_date == today - timedelta(days=90) and old.amount == Decimal("5.00")
    assert all(p.account_id == clear for p in found)


def test_a_known_entry_moved_to_another_account_comes_back_with_that_account(booked: dict[str, Any]) -> None:
    qbo, today = booked["qbo"], booked["today"]
    found = qbo.clearing_postings(
        [booked["clear"]], today, today, {"Transfer": [booked["transfer"]], "Payment": ["999999"]}
    )
    moved = [p for p in found if p.account_id != booked["clear"]]
    assert [(p.entity, p.account_id) for p in moved] == []
    found = qbo.clearing_postings(["no-such-account"], today, today, {"Transfer": [booked["transfer"]]})
    assert [(p.entity, p.qbo_id, p.account_id, p.amount) for p in found] == [
        ("Transfer", booked["transfer"], booked["clear"], Decimal("-40.00"))
    ]


def test_pages_past_the_first_are_read_in_further_batches(
    booked: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo, clear, today = booked["qbo"], booked["clear"], booked["today"]
    whole = qbo.clearing_postings([clear], today, today, {})
    monkeypatch.setattr(clearing, "PAGE_SIZE", 1)
    before = qbo.counts().batches
    paged = qbo.clearing_postings([clear], today, today, {})
    assert sorted(paged, key=str) == sorted(whole, key=str)
    assert qbo.counts().batches - before > 1
