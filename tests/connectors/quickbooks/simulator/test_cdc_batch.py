"""Change data capture, batch calls and requestid idempotency, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.quickbooks.simulator import QboSimulator


def _cdc(api: Any, since: str, entities: str = "Invoice,Customer,Payment,CreditMemo") -> Any:
    return api.get("cdc", entities=entities, changedSince=since)


def test_cdc_returns_changes_and_deletions(api: Any, sim: QboSimulator, clock: Any) -> None:
    clock.advance(minutes=5)
    since = clock.now.isoformat()
    clock.advance(seconds=1)
    added = sim.add_invoice(amount=Decimal("50.00"))
    doomed = sim.add_invoice(amount=Decimal("60.00"))
    sim.delete_invoice(doomed)
    payment_id = sim.record_offline_payment(added, Decimal("20.00"))
    response = _cdc(api, since)
    assert response.status_code == 200, response.text
    body = api.json(response)
    assert isinstance(body["time"], str)
    blocks = body["CDCResponse"][0]["QueryResponse"]
    assert len(blocks) == 4
    invoices = {row["Id"]: row for row in blocks[0]["Invoice"]}
    assert invoices[added]["Balance"] == Decimal("30.00")
    assert invoices[doomed]["status"] == "Deleted" and "LastUpdatedTime" in invoices[doomed]["MetaData"]
    assert blocks[0]["startPosition"] == 1 and blocks[0]["maxResults"] == len(blocks[0]["Invoice"])
    assert blocks[1] == {}  # no customer changed
    assert [row["Id"] for row in blocks[2]["Payment"]] == [payment_id]


def test_cdc_refuses_more_than_30_days(api: Any, clock: Any) -> None:
    response = _cdc(api, (clock.now - timedelta(days=31)).isoformat())
    assert response.status_code == 400 and "Fault" in api.json(response)
    bad_entity = _cdc(api, clock.now.isoformat(), entities="Invoice,Nonsense")
    assert bad_entity.status_code == 400


def test_cdc_caps_each_entity_at_1000(clock: Any) -> None:
    with QboSimulator(seed=3, invoices=2400, now=clock) as sim:
        from requests import get

        token = sim.mint_tokens()["access_token"]
        response = get(
            f"{sim.api_base_url}/company/{sim.realm_id}/cdc",
            params={"entities": "Invoice", "changedSince": (clock.now - timedelta(days=29)).isoformat()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        rows = response.json()["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
        assert len(rows) == 1000
        stamps = [row["MetaData"]["LastUpdatedTime"] for row in rows]
        assert stamps == sorted(stamps, key=lambda s: __import__("datetime").datetime.fromisoformat(s))


def test_batch_mixes_creates_updates_deletes_queries_and_faults(api: Any, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("75.00"))
    invoice = sim.entity("Invoice", invoice_id)
    assert invoice is not None
    other_id = sim.add_invoice(amount=Decimal("10.00"))
    items = [
        {"bId": "bid1", "operation": "create", "Vendor": {"DisplayName": "Boraski Family Store"}},
        {"bId": "bid2", "operation": "delete", "Invoice": {"Id": "99999", "SyncToken": "0"}},
        {
            "bId": "bid3",
            "operation": "update",
            "Invoice": {"sparse": True, "Id": invoice_id, "SyncToken": "7", "PrivateNote": "x"},
        },
        {"bId": "bid4", "Query": "select * from Invoice where TotalAmt > '70.00' MAXRESULTS 3"},
        {
            "bId": "bid5",
            "operation": "create",
            "Payment": {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": Decimal("75.00"),
                "Line": [
                    {"Amount": Decimal("75.00"), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
                ],
            },
        },
        {"bId": "bid6", "operation": "delete", "Invoice": {"Id": other_id, "SyncToken": "0"}},
    ]
    response = api.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 200, response.text
    out = {item["bId"]: item for item in api.json(response)["BatchItemResponse"]}
    assert out["bid1"]["Vendor"]["DisplayName"] == "Boraski Family Store"
    assert out["bid2"]["Fault"]["Error"][0]["code"] == "610"
    assert out["bid3"]["Fault"]["Error"][0]["code"] == "5010"
    assert out["bid4"]["QueryResponse"]["Invoice"]
    assert out["bid5"]["Payment"]["TotalAmt"] == Decimal("75.00")
    assert out["bid6"]["Invoice"]["status"] == "Deleted"
    assert sim.entity("Invoice", invoice_id)["Balance"] == 0  # type: ignore[index]
    assert sim.counts()["batch"] == 1 and sim.counts()["batch_write"] == 1  # it holds writes


def test_a_batch_of_queries_only_is_not_counted_as_writing(sim: QboSimulator, api: Any) -> None:
    items = [
        {"bId": "q1", "Query": "SELECT * FROM Invoice"},
        {"bId": "q2", "Query": "SELECT * FROM Customer"},
    ]
    assert api.post("batch", {"BatchItemRequest": items}).status_code == 200
    assert sim.counts()["batch"] == 1 and "batch_write" not in sim.counts()


def test_batch_over_30_items_is_a_fault(api: Any) -> None:
    items = [{"bId": str(n), "Query": "select * from Item"} for n in range(31)]
    response = api.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 400 and "Fault" in api.json(response)


def test_batch_limit_40_per_minute(api: Any, clock: Any) -> None:
    item = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Item MAXRESULTS 1"}]}
    codes = [api.post("batch", item).status_code for _ in range(41)]
    assert codes[:40] == [200] * 40 and codes[40] == 429
    clock.advance(seconds=61)
    assert api.post("batch", item).status_code == 200


def test_requestid_replays_the_first_response_and_creates_once(api: Any, sim: QboSimulator) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("40.00"))
    invoice = sim.entity("Invoice", invoice_id)
    assert invoice is not None
    body = {
        "CustomerRef": invoice["CustomerRef"],
        "TotalAmt": Decimal("40.00"),
        "Line": [{"Amount": Decimal("40.00"), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
    }
    before = len(sim.entities("Payment"))
    first = api.post("payment", body, requestid="pi_123:payment")
    second = api.post("payment", body, requestid="pi_123:payment")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(sim.entities("Payment")) == before + 1
    other = api.post("payment", {**body, "TotalAmt": Decimal("1.00"), "Line": []}, requestid="another")
    assert other.status_code == 200 and api.json(other)["Payment"]["Id"] != api.json(first)["Payment"]["Id"]
