"""Write payloads and requestid handling."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from connectors.quickbooks.sdk import dumps
from connectors.quickbooks.writes import (
    purchase_body,
    qbo_request_id,
    refund_body,
    transfer_body,
)
from syncd.domain import QboPurchaseDraft, QboRefundDraft, QboTransferDraft


def test_short_request_ids_pass_through_and_long_ones_hash_deterministically() -> None:
    assert qbo_request_id("qbo:payment:pi_123") == "qbo:payment:pi_123"
    long_key = "qbo:payment:" + "x" * 80
    hashed = qbo_request_id(long_key)
    assert len(hashed) == 50 and hashed == qbo_request_id(long_key)
    assert hashed != qbo_request_id(long_key + "y")
    assert len(qbo_request_id("é")) == 50  # non-ASCII keys are hashed too
    with pytest.raises(ValueError):
        qbo_request_id("")


def test_dumps_keeps_decimal_literals_and_refuses_floats() -> None:
    text = dumps(
        {"TotalAmt": Decimal("100.00"), "Line": [{"Amount": Decimal("0.10")}], "ok": True, "n": None}
    )
    assert text == '{"TotalAmt":100.00,"Line":[{"Amount":0.10}],"ok":true,"n":null}'
    assert json.loads(text, parse_float=Decimal)["TotalAmt"] == Decimal("100.00")
    with pytest.raises(TypeError):
        dumps({"x": 1.5})
    with pytest.raises(ValueError):
        dumps(Decimal("NaN"))


def test_purchase_is_a_cash_expense_out_of_clearing() -> None:
    body = purchase_body(
        QboPurchaseDraft(
            "56",
            "90",
            "91",
            amount=Decimal("3.20"),
            currency="usd",
            txn_date=date(2026, 1, 2),
            memo="Stripe fee",
            reference="txn_1",
        )
    )
    assert body["PaymentType"] == "Cash"
    assert body["AccountRef"] == {"value": "90"}
    assert body["EntityRef"] == {"value": "56", "type": "Vendor"}
    line = body["Line"][0]
    assert line["DetailType"] == "AccountBasedExpenseLineDetail"
    assert line["AccountBasedExpenseLineDetail"]["AccountRef"] == {"value": "91"}
    assert body["CurrencyRef"] == {"value": "USD"}


def test_transfer_and_refund_bodies() -> None:
    transfer = transfer_body(
        QboTransferDraft(
            "90",
            "35",
            amount=Decimal("96.80"),
            currency="USD",
            txn_date=date(2026, 1, 3),
            memo="Payout",
            reference="po_1",
        )
    )
    assert transfer["FromAccountRef"] == {"value": "90"} and transfer["ToAccountRef"] == {"value": "35"}
    assert "po_1" in transfer["PrivateNote"]
    refund = refund_body(
        QboRefundDraft(
            "7",
            "90",
            "79",
            amount=Decimal("10.00"),
            currency="USD",
            txn_date=date(2026, 1, 4),
            memo="Refund",
            reference="re_1",
        ),
        item_id="12",
    )
    assert refund["DepositToAccountRef"] == {"value": "90"}
    assert refund["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": "12"}
    assert refund["TotalAmt"] == Decimal("10.00")
