"""Builders of entity JSON in the exact shapes of the QBO samples (invoice_read, payment_create_response)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator.wire import cents, currency_ref, qbo_time

Entity = dict[str, Any]
ZERO = Decimal("0.00")


def ref(value: str, name: str | None = None) -> dict[str, str]:
    return {"value": value} if name is None else {"value": value, "name": name}


def meta(created: datetime, updated: datetime | None = None) -> dict[str, str]:
    return {"CreateTime": qbo_time(created), "LastUpdatedTime": qbo_time(updated or created)}


def header(entity_id: str, sync_token: int, created: datetime, updated: datetime | None = None) -> Entity:
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": entity_id,
        "SyncToken": str(sync_token),
        "MetaData": meta(created, updated),
    }


def sales_line(
    line_id: int, item: tuple[str, str], description: str, qty: Decimal, unit_price: Decimal, taxable: bool
) -> Entity:
    return {
        "Id": str(line_id),
        "LineNum": line_id,
        "Description": description,
        "Amount": cents(qty * unit_price),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": ref(item[0], item[1]),
            "UnitPrice": unit_price,
            "Qty": qty,
            "TaxCodeRef": ref("TAX" if taxable else "NON"),
        },
    }


def subtotal_line(amount: Decimal) -> Entity:
    return {"Amount": amount, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}


def discount_line(amount: Decimal, percent: Decimal, account: tuple[str, str]) -> Entity:
    return {
        "Amount": amount,
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {
            "PercentBased": True,
            "DiscountPercent": percent,
            "DiscountAccountRef": ref(account[0], account[1]),
        },
    }


def tax_detail(total_tax: Decimal, taxable: Decimal, percent: Decimal, tax_code_id: str) -> Entity:
    if total_tax == 0:
        return {"TotalTax": 0}
    return {
        "TxnTaxCodeRef": ref(tax_code_id),
        "TotalTax": total_tax,
        "TaxLine": [
            {
                "Amount": total_tax,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": ref("3"),
                    "PercentBased": True,
                    "TaxPercent": percent,
                    "NetAmountTaxable": taxable,
                },
            }
        ],
    }


def invoice(
    *,
    entity_id: str,
    sync_token: int,
    created: datetime,
    updated: datetime,
    doc_number: str,
    txn_date: str,
    due_date: str,
    customer: Entity,
    lines: Sequence[Entity],
    total_tax: Entity,
    total: Decimal,
    balance: Decimal,
    exchange_rate: Decimal | None,
    linked: Sequence[dict[str, str]] = (),
    private_note: str | None = None,
) -> Entity:
    currency = customer.get("CurrencyRef", {}).get("value", "USD")
    body: Entity = {
        "AllowIPNPayment": False,
        "AllowOnlinePayment": False,
        "AllowOnlineCreditCardPayment": False,
        "AllowOnlineACHPayment": False,
        **header(entity_id, sync_token, created, updated),
        "CustomField": [],
        "DocNumber": doc_number,
        "TxnDate": txn_date,
        "CurrencyRef": currency_ref(currency),
    }
    if exchange_rate is not None:
        body["ExchangeRate"] = exchange_rate
    if private_note is not None:
        body["PrivateNote"] = private_note
    body["LinkedTxn"] = list(linked)
    body["Line"] = list(lines)
    body["TxnTaxDetail"] = total_tax
    body["CustomerRef"] = ref(customer["Id"], customer["DisplayName"])
    body["CustomerMemo"] = {"value": "Thank you for your business and have a great day!"}
    if "BillAddr" in customer:
        body["BillAddr"] = dict(customer["BillAddr"])
    body["SalesTermRef"] = ref("3", "Net 30")
    body["DueDate"] = due_date
    body["TotalAmt"] = total
    body["ApplyTaxAfterDiscount"] = False
    body["PrintStatus"] = "NeedToPrint"
    body["EmailStatus"] = "NotSet"
    if "PrimaryEmailAddr" in customer:
        body["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
    body["Balance"] = balance
    return body


def payment_line(amount: Decimal, invoice_id: str, open_balance: Decimal, doc_number: str) -> Entity:
    def name_value(name: str, value: str) -> Entity:
        return {
            "name": "{http://schema.intuit.com/finance/v3}NameValue",
            "declaredType": "com.intuit.schema.finance.v3.NameValue",
            "scope": "javax.xml.bind.JAXBElement$GlobalScope",
            "value": {"Name": name, "Value": value},
            "nil": False,
            "globalScope": True,
            "typeSubstituted": False,
        }

    return {
        "Amount": amount,
        "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}],
        "LineEx": {
            "any": [
                name_value("txnId", invoice_id),
                name_value("txnOpenBalance", format(open_balance, "f")),
                name_value("txnReferenceNumber", doc_number),
            ]
        },
    }


def payment(
    *,
    entity_id: str,
    sync_token: int,
    created: datetime,
    updated: datetime,
    txn_date: str,
    customer: Entity,
    total: Decimal,
    lines: Sequence[Entity],
    deposit_to: tuple[str, str],
    exchange_rate: Decimal | None,
    payment_method: tuple[str, str] | None = None,
    ref_num: str | None = None,
    private_note: str | None = None,
) -> Entity:
    applied = sum((Decimal(line["Amount"]) for line in lines), ZERO)
    body: Entity = {"CustomerRef": ref(customer["Id"], customer["DisplayName"])}
    body["DepositToAccountRef"] = ref(deposit_to[0], deposit_to[1])
    if payment_method is not None:
        body["PaymentMethodRef"] = ref(payment_method[0], payment_method[1])
    if ref_num is not None:
        body["PaymentRefNum"] = ref_num
    body["TotalAmt"] = total
    body["UnappliedAmt"] = cents(total - applied)
    body["ProcessPayment"] = False
    body.update(header(entity_id, sync_token, created, updated))
    body["TxnDate"] = txn_date
    body["CurrencyRef"] = currency_ref(customer.get("CurrencyRef", {}).get("value", "USD"))
    if exchange_rate is not None:
        body["ExchangeRate"] = exchange_rate
    if private_note is not None:
        body["PrivateNote"] = private_note
    body["Line"] = list(lines)
    return body
