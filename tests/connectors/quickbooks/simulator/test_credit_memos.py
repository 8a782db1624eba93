"""Credit memos over HTTP: a memo lowers what the customer owes; a zero-total Payment linking it
and an invoice applies the credit (the invoice's Balance and the memo's RemainingCredit drop
together); more than is left is refused; deleting the Payment gives both back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import QboSimulator


def _customer_balance(api: Any, customer_id: str) -> Decimal:
    return Decimal(str(api.json(api.get(f"customer/{customer_id}"))["Customer"]["Balance"]))


def _memo(api: Any, customer_id: str, item_id: str, amount: str) -> dict[str, Any]:
    body = {
        "CustomerRef": {"value": customer_id},
        "DocNumber": "WO-1",
        "Line": [
            {
                "Amount": Decimal(amount),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item_id},
                    "Qty": 1,
                    "UnitPrice": Decimal(amount),
                },
            }
        ],
    }
    response = api.post("creditmemo", body, requestid="memo-1")
    assert response.status_code == 200, response.text
    return dict(api.json(response)["CreditMemo"])


def _apply(api: Any, customer_id: str, invoice_id: str, memo_id: str, amount: str, request: str) -> Any:
    return api.post(
        "payment",
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": 0,
            "Line": [
                {"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]},
                {"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}]},
            ],
        },
        requestid=request,
    )


def test_a_credit_memo_applied_by_a_zero_payment(api: Any, sim: QboSimulator) -> None:
    customer = api.json(api.query("select * from Customer where CurrencyRef = 'USD' MAXRESULTS 1"))
    customer_id = customer["QueryResponse"]["Customer"][0]["Id"]
    invoice_id = sim.add_invoice(customer_id, Decimal("40.00"))
    owed = _customer_balance(api, customer_id)
    memo = _memo(api, customer_id, sim.entities("Item")[0]["Id"], "30.00")
    assert memo["TotalAmt"] == memo["RemainingCredit"] == memo["Balance"] == Decimal("30.00")
    assert api.json(api.get(f"creditmemo/{memo['Id']}"))["CreditMemo"] == memo
    assert _customer_balance(api, customer_id) == owed - Decimal("30.00")
    # The same requestid answers the memo first created.
    again = _memo(api, customer_id, sim.entities("Item")[0]["Id"], "30.00")
    assert again["Id"] == memo["Id"] and len(sim.entities("CreditMemo")) == 1

    too_much = _apply(api, customer_id, invoice_id, memo["Id"], "35.00", "apply-0")
    assert too_much.status_code == 400 and "remaining credit 30.00" in too_much.text
    applied = _apply(api, customer_id, invoice_id, memo["Id"], "30.00", "apply-1")
    assert applied.status_code == 200, applied.text
    payment = api.json(applied)["Payment"]
    assert payment["TotalAmt"] == 0 and payment["UnappliedAmt"] == 0
    invoice = api.json(api.get(f"invoice/{invoice_id}"))["Invoice"]
    memo_now = api.json(api.get(f"creditmemo/{memo['Id']}"))["CreditMemo"]
    assert invoice["Balance"] == Decimal("10.00") and memo_now["RemainingCredit"] == 0
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in memo_now["LinkedTxn"]
    assert _customer_balance(api, customer_id) == owed - Decimal("30.00")  # moved, not lowered again
    refused = api.post("creditmemo", {**memo_now, "sparse": True}, operation="delete")
    assert refused.status_code == 400  # applied: its Payment goes first

    api.post("payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    invoice = api.json(api.get(f"invoice/{invoice_id}"))["Invoice"]
    memo_now = api.json(api.get(f"creditmemo/{memo['Id']}"))["CreditMemo"]
    assert invoice["Balance"] == Decimal("40.00") and memo_now["RemainingCredit"] == Decimal("30.00")
    assert _customer_balance(api, customer_id) == owed - Decimal("30.00")
