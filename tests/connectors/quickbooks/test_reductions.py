"""Taking a refund off a Payment: which lines give way, the marker, and what is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.reductions import reduced_fields, restored_fields
from syncd.domain import QboPaymentLine, QboPaymentReduction, QboPaymentRestore
from syncd.errors import NotReducibleError


def _payment(
    total: str, *lines: tuple[str, str], note: str = "Stripe payment pi_1", rate: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": "77",
        "TotalAmt": total,
        "PrivateNote": note,
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}], "LineEx": {"any": []}}
            for invoice, amount in lines
        ],
    }
    if rate is not None:
        body["ExchangeRate"] = rate
    return body


def _cut(amount: str, marker: str = "re_1", home: str | None = None) -> QboPaymentReduction:
    return QboPaymentReduction("77", marker, Decimal(amount), Decimal(home) if home is not None else None)


def _amounts(fields: dict[str, Any]) -> list[tuple[str, Decimal]]:
    return [(line["LinkedTxn"][0]["TxnId"], Decimal(str(line["Amount"]))) for line in fields["Line"]]


def test_the_last_invoice_reopens_first_and_the_marker_rides_along() -> None:
    fields = reduced_fields(_payment("150.00", ("1", "100.00"), ("2", "50.00")), _cut("60.00"))
    assert fields is not None
    assert fields["TotalAmt"] == Decimal("90.00")
    assert _amounts(fields) == [("1", Decimal("90.00"))]  # invoice 2's link went to zero: dropped
    assert fields["PrivateNote"] == "Stripe payment pi_1\n[re_1] -60.00"
    assert "LineEx" not in fields["Line"][0] and "ExchangeRate" not in fields


def test_unapplied_credit_is_refunded_before_any_invoice_reopens() -> None:
    fields = reduced_fields(_payment("130.00", ("1", "100.00")), _cut("20.00"))
    assert fields is not None and fields["TotalAmt"] == Decimal("110.00")
    assert _amounts(fields) == [("1", Decimal("100.00"))]
    fields = reduced_fields(_payment("130.00", ("1", "100.00")), _cut("45.00"))
    assert fields is not None and _amounts(fields) == [("1", Decimal("85.00"))]


def test_a_full_refund_leaves_an_empty_payment() -> None:
    fields = reduced_fields(_payment("100.00", ("1", "100.00")), _cut("100.00"))
    assert fields is not None and fields["TotalAmt"] == 0 and fields["Line"] == []


def test_a_payment_already_carrying_the_marker_is_left_alone() -> None:
    assert reduced_fields(_payment("40.00", ("1", "40.00"), note="x\n[re_1] -60.00"), _cut("60.00")) is None
    # Another refund's marker is not this one's.
    assert (
        reduced_fields(_payment("40.00", ("1", "40.00"), note="x\n[re_12] -6.00"), _cut("6.00")) is not None
    )


@pytest.mark.parametrize(
    ("payment", "why"),
    [
        (_payment("0", note="Voided"), "voided"),
        (_payment("50.00", ("1", "50.00")), "holds 50.00"),
        (_payment("100.00", ("1", "100.00"), note="x" * 3990), "no room"),
    ],
)
def test_what_cannot_be_reduced_is_refused(payment: dict[str, Any], why: str) -> None:
    payment["Balance"] = "0"
    with pytest.raises(NotReducibleError, match=why):
        reduced_fields(payment, _cut("60.00"))


def test_a_converted_payment_gets_the_rate_that_keeps_its_home_amount_exact() -> None:
    # 100.00 CAD deposited as 73.21 USD; Stripe took 29.87 USD out for a 40.00 CAD refund.
    payment = _payment("100.00", ("1", "100.00"), rate="0.7321")
    fields = reduced_fields(payment, _cut("40.00", home="29.87"))
    assert fields is not None and fields["TotalAmt"] == Decimal("60.00")
    home = (fields["TotalAmt"] * fields["ExchangeRate"]).quantize(Decimal("0.01"))
    assert home == Decimal("73.21") - Decimal("29.87")


def test_a_converted_payment_cannot_drop_to_nothing_while_an_exchange_difference_remains() -> None:
    payment = _payment("100.00", ("1", "100.00"), rate="0.7321")
    with pytest.raises(NotReducibleError, match="after conversion"):
        reduced_fields(payment, _cut("100.00", home="73.01"))
    fields = reduced_fields(payment, _cut("100.00", home="73.21"))
    assert fields is not None and fields["TotalAmt"] == 0


def test_a_failed_refund_goes_back_onto_the_invoices_that_still_owe_and_the_rest_is_credit() -> None:
    payment = _payment("90.00", ("1", "90.00"), note="x\n[re_1] -60.00")
    back = QboPaymentRestore(
        "77",
        "re_1:failed",
        Decimal("60.00"),
        lines=(QboPaymentLine("1", Decimal("10.00")), QboPaymentLine("2", Decimal("45.00"))),
    )
    fields = restored_fields(payment, back)
    assert fields is not None and fields["TotalAmt"] == Decimal("150.00")
    assert _amounts(fields) == [("1", Decimal("100.00")), ("2", Decimal("45.00"))]  # 5.00 is credit
    assert fields["PrivateNote"].endswith("[re_1:failed] +60.00")
    payment["PrivateNote"] = fields["PrivateNote"]
    assert restored_fields(payment, back) is None
    with pytest.raises(NotReducibleError, match="voided"):
        restored_fields({**_payment("0", note="Voided"), "Balance": "0"}, back)


def test_a_converted_payment_restored_gets_back_its_home_amount() -> None:
    payment = _payment("60.00", ("1", "60.00"), rate="0.7225")  # 43.35 USD at home
    fields = restored_fields(
        payment, QboPaymentRestore("77", "re_1:failed", Decimal("40.00"), home_amount=Decimal("29.87"))
    )
    assert fields is not None
    assert (fields["TotalAmt"] * fields["ExchangeRate"]).quantize(Decimal("0.01")) == Decimal("73.22")
