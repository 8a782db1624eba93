"""Entity reads and writes over HTTP: create, sparse update, SyncTokens, void, delete, balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import QboSimulator


def _open_invoice(api: Any) -> dict[str, Any]:
    found = api.json(api.query("select * from Invoice where Balance > '0' MAXRESULTS 1000"))
    for row in found["QueryResponse"]["Invoice"]:
        if (
            Decimal(str(row["Balance"])) == Decimal(str(row["TotalAmt"]))
            and row["CurrencyRef"]["value"] == "USD"
        ):
            return dict(row)
    raise AssertionError("no fully open USD invoice in the seed")


def test_company_info_and_preferences(sim: QboSimulator, api: Any) -> None:
    info = api.json(api.get(f"companyinfo/{sim.realm_id}"))["CompanyInfo"]
    assert info["CompanyName"] == "Northwind IT Services"
    assert info["Id"] == "1" and isinstance(info["SyncToken"], str)
    queried = api.json(api.query("select * from CompanyInfo"))["QueryResponse"]["CompanyInfo"]
    assert queried[0]["CompanyName"] == info["CompanyName"]
    prefs = api.json(api.get("preferences"))["Preferences"]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "USD"


def test_create_invoice_assigns_id_synctoken_metadata(api: Any, sim: QboSimulator) -> None:
    customer = api.json(api.query("select * from Customer where CurrencyRef = 'USD' MAXRESULTS 1"))
    customer_id = customer["QueryResponse"]["Customer"][0]["Id"]
    body = {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "Amount": Decimal("100.00"),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": sim.entities("Item")[0]["Id"]}},
            }
        ],
    }
    response = api.post("invoice", body)
    assert response.status_code == 200, response.text
    created = api.json(response)["Invoice"]
    assert created["SyncToken"] == "0" and created["Id"].isdigit()
    assert created["TotalAmt"] == Decimal("100.00") and created["Balance"] == Decimal("100.00")
    assert created["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert created["CustomerRef"]["name"]
    assert created["MetaData"]["CreateTime"][-6] in "+-"
    read = api.json(api.get(f"invoice/{created['Id']}"))["Invoice"]
    assert read == created


def test_sparse_update_bumps_synctoken_and_stale_token_is_5010(api: Any) -> None:
    invoice = _open_invoice(api)
    response = api.post(
        "invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "PrivateNote": "Call before visiting",
        },
    )
    assert response.status_code == 200, response.text
    updated = api.json(response)["Invoice"]
    assert updated["SyncToken"] == str(int(invoice["SyncToken"]) + 1)
    assert updated["PrivateNote"] == "Call before visiting"
    assert updated["Line"] == invoice["Line"]
    stale = api.post(
        "invoice",
        {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "PrivateNote": "again"},
    )
    assert stale.status_code == 400
    error = api.json(stale)["Fault"]["Error"][0]
    assert error["code"] == "5010" and api.json(stale)["Fault"]["type"] == "ValidationFault"


def test_payment_reduces_balance_and_void_restores_it(api: Any, sim: QboSimulator) -> None:
    invoice = _open_invoice(api)
    total = Decimal(str(invoice["TotalAmt"]))
    part = (total / 2).quantize(Decimal("0.01"))
    payment = {
        "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
        "TotalAmt": part + Decimal("5.00"),
        "Line": [{"Amount": part, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    created = api.json(api.post("payment", payment))["Payment"]
    assert created["UnappliedAmt"] == Decimal("5.00")
    after = api.json(api.get(f"invoice/{invoice['Id']}"))["Invoice"]
    assert after["Balance"] == total - part
    assert {"TxnId": created["Id"], "TxnType": "Payment"} in after["LinkedTxn"]

    voided = api.post(
        "payment",
        {"Id": created["Id"], "SyncToken": created["SyncToken"], "sparse": True},
        operation="update",
        include="void",
    )
    assert voided.status_code == 200, voided.text
    assert api.json(voided)["Payment"]["TotalAmt"] == 0
    restored = api.json(api.get(f"invoice/{invoice['Id']}"))["Invoice"]
    assert restored["Balance"] == total
    assert all(link["TxnType"] != "Payment" for link in restored["LinkedTxn"])


def test_deleting_a_payment_restores_the_balance(api: Any) -> None:
    invoice = _open_invoice(api)
    total = Decimal(str(invoice["TotalAmt"]))
    payment = api.json(
        api.post(
            "payment",
            {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": total,
                "Line": [{"Amount": total, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
        )
    )["Payment"]
    assert api.json(api.get(f"invoice/{invoice['Id']}"))["Invoice"]["Balance"] == 0
    deleted = api.post(
        "payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete"
    )
    assert api.json(deleted)["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
    assert api.json(api.get(f"invoice/{invoice['Id']}"))["Invoice"]["Balance"] == total
    gone = api.get(f"payment/{payment['Id']}")
    assert gone.status_code == 400 and api.json(gone)["Fault"]["Error"][0]["code"] == "610"


def test_overpaying_an_invoice_is_a_validation_fault(api: Any) -> None:
    invoice = _open_invoice(api)
    too_much = Decimal(str(invoice["Balance"])) + Decimal("0.01")
    response = api.post(
        "payment",
        {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": too_much,
            "Line": [{"Amount": too_much, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert response.status_code == 400
    assert api.json(response)["Fault"]["type"] == "ValidationFault"
    assert api.json(api.get(f"invoice/{invoice['Id']}"))["Invoice"]["Balance"] == invoice["Balance"]


def test_void_invoice_zeroes_it(api: Any) -> None:
    invoice = _open_invoice(api)
    response = api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void")
    assert response.status_code == 200, response.text
    voided = api.json(response)["Invoice"]
    assert voided["Balance"] == 0 and voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided"
    assert voided["SyncToken"] == str(int(invoice["SyncToken"]) + 1)


def test_delete_invoice_and_stale_delete(api: Any) -> None:
    invoice = _open_invoice(api)
    stale = api.post("invoice", {"Id": invoice["Id"], "SyncToken": "99"}, operation="delete")
    assert stale.status_code == 400 and api.json(stale)["Fault"]["Error"][0]["code"] == "5010"
    response = api.post(
        "invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="delete"
    )
    body = api.json(response)
    assert body["Invoice"]["status"] == "Deleted" and isinstance(body["time"], str)


def test_multicurrency_payment_carries_currency_and_rate(api: Any, sim: QboSimulator) -> None:
    found = api.json(api.query("select * from Invoice where CurrencyRef = 'CAD' AND Balance > '0'"))
    if not found["QueryResponse"]:
        invoice_id = sim.add_invoice(_cad_customer(sim), Decimal("80.00"))
        invoice = sim.entity("Invoice", invoice_id)
    else:
        invoice = found["QueryResponse"]["Invoice"][0]
    assert invoice is not None
    assert invoice["CurrencyRef"]["value"] == "CAD" and Decimal(str(invoice["ExchangeRate"])) > 0
    amount = Decimal(str(invoice["Balance"]))
    payment = api.json(
        api.post(
            "payment",
            {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": amount,
                "CurrencyRef": {"value": "CAD"},
                "ExchangeRate": Decimal("0.7310"),
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
        )
    )["Payment"]
    assert payment["CurrencyRef"] == {"value": "CAD", "name": "Canadian Dollar"}
    assert payment["ExchangeRate"] == Decimal("0.7310")
    wrong = api.post(
        "payment",
        {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": 1,
            "CurrencyRef": {"value": "USD"},
        },
    )
    assert wrong.status_code == 400


def _cad_customer(sim: QboSimulator) -> str:
    for row in sim.entities("Customer"):
        if row["CurrencyRef"]["value"] == "CAD":
            return str(row["Id"])
    raise AssertionError("no CAD customer")


def test_create_purchase_transfer_account_vendor(api: Any, sim: QboSimulator) -> None:
    account = api.json(api.post("account", {"Name": "Stripe Clearing", "AccountType": "Bank"}))["Account"]
    assert account["Classification"] == "Asset" and account["CurrencyRef"]["value"] == "USD"
    duplicate = api.post("account", {"Name": "Stripe Clearing", "AccountType": "Bank"})
    assert duplicate.status_code == 400 and api.json(duplicate)["Fault"]["Error"][0]["code"] == "6240"
    vendor = api.json(api.post("vendor", {"DisplayName": "Stripe"}))["Vendor"]
    fees = api.json(api.post("account", {"Name": "Stripe Fees", "AccountType": "Expense"}))["Account"]
    purchase = api.json(
        api.post(
            "purchase",
            {
                "AccountRef": {"value": account["Id"]},
                "PaymentType": "Cash",
                "EntityRef": {"value": vendor["Id"], "type": "Vendor"},
                "Line": [
                    {
                        "Amount": Decimal("3.20"),
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": fees["Id"]}},
                    }
                ],
            },
        )
    )["Purchase"]
    assert purchase["TotalAmt"] == Decimal("3.20") and purchase["AccountRef"]["name"] == "Stripe Clearing"
    checking = api.json(api.query("select * from Account where Name = 'Checking'"))["QueryResponse"][
        "Account"
    ][0]
    transfer = api.json(
        api.post(
            "transfer",
            {
                "FromAccountRef": {"value": account["Id"]},
                "ToAccountRef": {"value": checking["Id"]},
                "Amount": Decimal("96.80"),
            },
        )
    )["Transfer"]
    assert transfer["Amount"] == Decimal("96.80") and transfer["SyncToken"] == "0"
    bad_ref = api.post(
        "transfer", {"FromAccountRef": {"value": "999999"}, "ToAccountRef": {"value": "1"}, "Amount": 1}
    )
    assert bad_ref.status_code == 400 and api.json(bad_ref)["Fault"]["Error"][0]["code"] == "2500"


def test_bad_requests_get_fault_shapes(api: Any) -> None:
    not_json = api.session.post(f"{api.base}/invoice", data=b"{not json", headers=api.headers(), timeout=5)
    assert not_json.status_code == 400 and "Fault" in api.json(not_json)
    missing = api.post("invoice", {"Line": []})
    assert missing.status_code == 400 and api.json(missing)["Fault"]["type"] == "ValidationFault"
    unknown = api.get("widget/1")
    assert unknown.status_code == 404 and api.json(unknown)["Fault"]["Error"][0]["Message"]
    outside = api.session.get(f"{api.sim.url}/no/such/route", timeout=5)
    assert outside.status_code == 404 and "Fault" in outside.json()


def test_pdf_is_a_small_valid_pdf(api: Any) -> None:
    invoice = _open_invoice(api)
    response = api.session.get(
        f"{api.base}/invoice/{invoice['Id']}/pdf",
        headers={**api.headers(), "Accept": "application/pdf"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.") and response.content.rstrip().endswith(b"%%EOF")
    assert str(invoice["DocNumber"]).encode() in response.content
    startxref = int(response.content.rsplit(b"startxref", 1)[1].split()[0])
    assert response.content[startxref:].startswith(b"xref")


def test_bookkeeper_helpers(sim: QboSimulator, api: Any) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("30.00"), due_date=None, doc_number="H-1")
    sim.update_invoice(invoice_id, DueDate="2026-04-30", PrivateNote="extended")
    row = api.json(api.get(f"invoice/{invoice_id}"))["Invoice"]
    assert row["DueDate"] == "2026-04-30" and row["SyncToken"] == "1" and row["Balance"] == Decimal("30.00")
    payment_id = sim.record_offline_payment(invoice_id, Decimal("10.00"))
    payment = sim.entity("Payment", payment_id)
    assert payment is not None and payment["TotalAmt"] == Decimal("10.00")
    assert payment["PaymentMethodRef"]["name"] == "Check"
    payment["TotalAmt"] = Decimal(0)  # entity() hands out copies
    assert sim.entity("Payment", payment_id)["TotalAmt"] == Decimal("10.00")  # type: ignore[index]
    assert sim.entity("Invoice", invoice_id)["Balance"] == Decimal("20.00")  # type: ignore[index]
    assert sim.entity("Invoice", "999999") is None
    assert any(row["Id"] == invoice_id for row in sim.entities("invoice"))
