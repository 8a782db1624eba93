"""Contract shapes: every simulator response has the keys and JSON value types of the real QBO samples.

Deliberate omissions (fields the samples carry that syncd never reads and the simulator does not model)
are listed in ``OMIT`` with the reason; everything else a sample has must be present with the same type.
"""

# ruff: noqa: S608 - these strings are QBO queries sent to the simulator, not SQL

from __future__ import annotations

import json
from decimal import Decimal
from fnmatch import fnmatch
from typing import Any

import pytest
import requests
from samples import QBO_SAMPLES

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator.wire import loads

CONTRACTS = QBO_SAMPLES

OMIT = (
    "*.ShipAddr",  # shipping addresses: syncd bills, it never ships
    "*.BillAddr.Lat",
    "*.BillAddr.Long",  # geocoding of addresses
    "*.BillAddr.Line2",
    "*.BillAddr.Line3",
    "*.BillAddr.Line4",  # the seed writes one-line street addresses
    "*.MetaData.LastModifiedByRef",  # which QBO user changed it
    "*.CustomField",  # custom fields exist only if the company defines them (seed: none)
    "*.FreeFormAddress",
    "*.DeliveryInfo",
    "*.PrivateNote",  # optional per invoice
    "*.Line[*].LinkedTxn",  # invoice lines linked to estimates: the simulator has no estimates
    "*.SalesItemLineDetail.ItemAccountRef",  # item income account echo
    "*.DefaultTaxCodeRef",  # per-customer tax code
    "*.PurchaseEx",  # opaque extension blob
    "*.id_token",  # only with the openid scope; intuit-oauth would verify it against Intuit's JWKS
    "*.data.alternative_ids",  # CloudEvents extension ids of Intuit's internal namespaces
    "*.Estimate",  # the CDC sample is for estimates; invoices are compared with invoice_read instead
    "*.SalesReceipt",  # batch sample queries sales receipts; structure is compared, not the entity
    "*.BatchItemResponse[Fault]",  # compared separately below (each item shape)
    "*.CreditCardPayment",
)


def jtype(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    return type(value).__name__


def omitted(path: str) -> bool:
    """``OMIT`` patterns match with ``[kind]`` list steps written as ``[*]`` or ``[Kind]`` literally."""
    plain = path.replace("[", "<").replace("]", ">")
    return any(fnmatch(plain, pattern.replace("[", "<").replace("]", ">")) for pattern in OMIT)


def shape_problems(sample: Any, ours: Any, path: str = "$") -> list[str]:
    if omitted(path):
        return []
    if jtype(sample) != jtype(ours):
        return [f"{path}: sample {jtype(sample)} vs ours {jtype(ours)}"]
    problems: list[str] = []
    if isinstance(sample, dict):
        for key, value in sample.items():
            child = f"{path}.{key}"
            if omitted(child):
                continue
            if key not in ours:
                problems.append(f"{child}: missing")
            else:
                problems.extend(shape_problems(value, ours[key], child))
    elif isinstance(sample, list) and sample:
        if not ours:
            return [] if omitted(f"{path}[*]") else [f"{path}: empty, sample is not"]
        for element in sample:
            counterpart = ours[0]
            tag = "*"
            if isinstance(element, dict):
                kind = element.get("DetailType") or next(
                    (k for k in ("Fault", "QueryResponse") if k in element), None
                )
                if kind is not None:
                    tag = str(kind)
                    matches = [
                        o for o in ours if isinstance(o, dict) and (o.get("DetailType") == kind or kind in o)
                    ]
                    if not matches:
                        if not omitted(f"{path}[{tag}]"):
                            problems.append(f"{path}[{tag}]: no element of this kind")
                        continue
                    counterpart = matches[0]
            problems.extend(shape_problems(element, counterpart, f"{path}[{tag}]"))
    return problems


def sample(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text(), parse_float=Decimal)


def assert_same_shape(name: str, ours: Any) -> None:
    problems = shape_problems(sample(name), ours)
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _taxed_linked_invoice(api: Any) -> dict[str, Any]:
    body = api.json(api.query("select * from Invoice where TxnTaxDetail.TotalTax > '0' MAXRESULTS 1000"))
    return next(dict(row) for row in body["QueryResponse"]["Invoice"] if row["LinkedTxn"])


def test_invoice_read_create_query_void_delete(api: Any, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("100.00"))
    assert_same_shape("invoice_read.json", api.json(api.get(f"invoice/{invoice_id}")))
    created = api.json(
        api.post(
            "invoice",
            sample("invoice_create_request.json")
            | {
                "CustomerRef": {"value": sim.entities("Customer")[0]["Id"]},
                "Line": [
                    {
                        "Amount": Decimal("100.0"),
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": sim.entities("Item")[0]["Id"]}},
                    }
                ],
            },
        )
    )
    assert_same_shape("invoice_create_response.json", created)
    taxed = _taxed_linked_invoice(api)
    query = api.json(api.query(f"select * from Invoice where Id = '{taxed['Id']}'"))
    theirs = sample("invoice_query_response.json")
    theirs["QueryResponse"]["Invoice"] = theirs["QueryResponse"]["Invoice"][:1]  # one like ours, not 31 kinds
    problems = shape_problems(theirs, query)
    assert not problems, problems
    invoice = created["Invoice"]
    voided = api.json(
        api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void")
    )
    assert_same_shape("invoice_voided.json", voided)
    other = api.json(api.get(f"invoice/{invoice_id}"))["Invoice"]
    deleted = api.json(
        api.post("invoice", {"Id": invoice_id, "SyncToken": other["SyncToken"]}, operation="delete")
    )
    assert_same_shape("invoice_delete_response.json", deleted)


def test_customer_read(api: Any, sim: QboSimulator) -> None:
    customer_id = sim.entities("Customer")[0]["Id"]
    assert_same_shape("customer_read.json", api.json(api.get(f"customer/{customer_id}")))


def test_payment_and_purchase_create(api: Any, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("100.00"))
    invoice = sim.entity("Invoice", invoice_id)
    assert invoice is not None
    request = sample("payment_create_request.json") | {
        "TotalAmt": Decimal("100.00"),
        "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
        "PaymentMethodRef": {"value": sim.entities("PaymentMethod")[0]["Id"]},
        "PaymentRefNum": "123",
        "Line": [{"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
    }
    request.pop("ExchangeRate")
    response = api.post("payment", request)
    assert response.status_code == 200, response.text
    assert_same_shape("payment_create_response.json", api.json(response))
    checking = api.json(api.query("select * from Account where Name = 'Checking'"))["QueryResponse"][
        "Account"
    ][0]
    expense = api.json(api.post("account", {"Name": "Meals", "AccountType": "Expense"}))["Account"]
    purchase = api.json(
        api.post(
            "purchase",
            {
                "AccountRef": {"value": checking["Id"]},
                "PaymentType": "Cash",
                "TxnDate": "2026-03-10",
                "Line": [
                    {
                        "DetailType": "AccountBasedExpenseLineDetail",
                        "Amount": Decimal("10.0"),
                        "AccountBasedExpenseLineDetail": {
                            "TaxCodeRef": {"value": "NON"},
                            "AccountRef": {"value": expense["Id"]},
                            "BillableStatus": "NotBillable",
                        },
                    }
                ],
            },
        )
    )
    assert_same_shape("purchase_create_response.json", purchase)


def test_cdc_shape(api: Any, sim: QboSimulator, clock: Any) -> None:
    since = clock.now.isoformat()
    sim.add_invoice()
    ours = api.json(api.get("cdc", entities="Invoice", changedSince=since))
    assert_same_shape("cdc_response.json", ours)
    block = ours["CDCResponse"][0]["QueryResponse"][0]
    assert set(block) == {"Invoice", "startPosition", "maxResults"}
    assert_same_shape("invoice_read.json", {"Invoice": block["Invoice"][0], "time": ours["time"]})


def test_batch_and_fault_shapes(api: Any, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice()
    items = [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "129999", "SyncToken": "0"}},
        {
            "bId": "bid3",
            "operation": "update",
            "Invoice": {"sparse": True, "Id": invoice_id, "SyncToken": "9"},
        },
        {"bId": "bid4", "Query": "select * from Invoice where TotalAmt > '0.00' MAXRESULTS 2"},
    ]
    ours = api.json(api.post("batch", {"BatchItemRequest": items}))
    assert_same_shape("batch_response.json", ours)
    by_id = {item["bId"]: item for item in ours["BatchItemResponse"]}
    theirs = {item["bId"]: item for item in sample("batch_response.json")["BatchItemResponse"]}
    assert not shape_problems(theirs["bid2"], by_id["bid2"])
    assert not shape_problems(theirs["bid3"], by_id["bid3"])
    assert not shape_problems(
        {k: v for k, v in theirs["bid4"]["QueryResponse"].items() if k != "SalesReceipt"},
        by_id["bid4"]["QueryResponse"],
    )
    assert_same_shape("fault_stale_object.json", by_id["bid3"])


def test_fault_bodies(api: Any, sim: QboSimulator) -> None:
    api.post("vendor", {"DisplayName": "Twice"})
    assert_same_shape("fault_validation.json", api.json(api.post("vendor", {"DisplayName": "Twice"})))
    assert_same_shape("fault_query_400.json", api.json(api.query("select * from Custmoer")))
    bad = api.session.post(f"{api.base}/invoice", data=b'{"BadJson": ', headers=api.headers(), timeout=5)
    assert_same_shape("fault_unsupported_property_400.json", api.json(bad))
    expired = requests.get(f"{api.base}/invoice/1", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert_same_shape("fault_auth_401.json", expired.json())


def test_oauth_token_response(sim: QboSimulator) -> None:
    assert_same_shape("oauth_token_response.json", sim.mint_tokens())


def test_webhook_bodies() -> None:
    from datetime import UTC, datetime

    from connectors.quickbooks.simulator.store import Change
    from connectors.quickbooks.simulator.webhooks import cloudevents_body, legacy_body

    changes = [Change("1269959970", "Customer", "43", "Create", datetime(2016, 10, 5, 3, 7, 4, tzinfo=UTC))]
    assert_same_shape("webhook_legacy.json", loads(legacy_body(changes)))
    assert_same_shape("webhook_cloudevents.json", loads(cloudevents_body(changes)))


@pytest.mark.parametrize("name", ["throttle_429.xml"])
def test_throttle_body_is_byte_exact(sim: QboSimulator, api: Any, name: str) -> None:
    sim.faults.throttle_next(1)
    assert api.get("preferences").content == (CONTRACTS / name).read_bytes()


def test_the_shape_checker_itself_catches_drift() -> None:
    assert shape_problems({"a": {"b": 1}}, {"a": {"b": "1"}}) == ["$.a.b: sample number vs ours str"]
    assert shape_problems({"a": [{"DetailType": "X", "X": {}}]}, {"a": [{"DetailType": "Y"}]}) == [
        "$.a[X]: no element of this kind"
    ]
    assert shape_problems({"Invoice": {"ShipAddr": {}}}, {"Invoice": {}}) == []  # documented omission
