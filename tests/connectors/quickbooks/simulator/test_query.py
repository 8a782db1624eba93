"""The query language subset: parsing, filters, ordering, paging, COUNT and the 4001 faults, over HTTP."""

# ruff: noqa: S608 - these strings are QBO queries sent to the simulator, not SQL

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator.query import parse
from connectors.quickbooks.simulator.wire import QboFault


def test_parser_reads_the_whole_grammar() -> None:
    query = parse(
        "SELECT * FROM Invoice WHERE Balance > '0' AND CustomerRef IN ('1', '2') AND DocNumber LIKE '%10%' "
        "AND MetaData.LastUpdatedTime >= '2026-01-01T00:00:00-08:00' ORDERBY DocNumber DESC "
        "STARTPOSITION 11 MAXRESULTS 10"
    )
    assert query.entity == "Invoice" and not query.count
    assert [c.op for c in query.where] == [">", "IN", "LIKE", ">="]
    assert query.where[1].values == ("1", "2")
    assert query.order == [("DocNumber", True)] and query.start == 11 and query.max_results == 10
    assert parse("select count(*) from Customer").count
    assert parse("SELECT *, Sku FROM Item ORDER BY Name").order == [("Name", False)]
    assert parse("select * from Customer where DisplayName = 'Amy''s Bird'").where[0].values == (
        "Amy's Bird",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SELECT FROM Invoice",
        "SELECT * FROM Invoice WHERE",
        "select * from Invoice x",
        "SELECT * FROM Invoice MAXRESULTS 1001",
        "SELECT * FROM Invoice STARTPOSITION 0",
    ],
)
def test_parser_rejects_bad_queries_with_4001(text: str) -> None:
    with pytest.raises(QboFault) as caught:
        parse(text)
    assert caught.value.code == "4001"


def test_filters_and_paging_over_http(api: Any, sim: QboSimulator) -> None:
    every = [row for row in sim.entities("Invoice")]
    open_ids = sorted(int(r["Id"]) for r in every if Decimal(str(r["Balance"])) > 0)
    pages: list[str] = []
    start = 1
    while True:
        body = api.json(
            api.query(f"select * from Invoice where Balance > '0' STARTPOSITION {start} MAXRESULTS 7")
        )
        rows = body["QueryResponse"].get("Invoice", [])
        if not rows:
            break
        assert body["QueryResponse"]["startPosition"] == start
        assert body["QueryResponse"]["maxResults"] == len(rows)
        pages.extend(row["Id"] for row in rows)
        start += len(rows)
    assert [int(i) for i in pages] == open_ids
    count = api.json(api.query("select count(*) from Invoice where Balance > '0'"))
    assert count["QueryResponse"] == {"totalCount": len(open_ids)}


def test_in_like_order_and_dotted_paths(api: Any, sim: QboSimulator) -> None:
    customers = api.json(api.query("select * from Customer ORDERBY DisplayName DESC"))["QueryResponse"][
        "Customer"
    ]
    names = [c["DisplayName"] for c in customers]
    assert names == sorted(names, reverse=True)
    picked = [customers[0]["Id"], customers[1]["Id"]]
    found = api.json(api.query(f"select * from Customer where Id IN ('{picked[0]}', '{picked[1]}')"))
    assert sorted(c["Id"] for c in found["QueryResponse"]["Customer"]) == sorted(picked)
    word = names[0].split()[0]
    like = api.json(api.query(f"select * from Customer where DisplayName LIKE '%{word}%'"))
    assert all(word.lower() in c["DisplayName"].lower() for c in like["QueryResponse"]["Customer"])
    banks = api.json(api.query("select * from Account where AccountType = 'Bank'"))["QueryResponse"][
        "Account"
    ]
    assert {"Checking", "Savings"} <= {a["Name"] for a in banks}
    newest = api.json(api.query("select * from Invoice ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 3"))
    stamps = [row["MetaData"]["LastUpdatedTime"] for row in newest["QueryResponse"]["Invoice"]]
    assert len(stamps) == 3


def test_changed_since_query_uses_last_updated_time(api: Any, sim: QboSimulator, clock: Any) -> None:
    clock.advance(minutes=1)
    invoice_id = sim.add_invoice(amount=Decimal("12.34"))
    since = clock.now.isoformat()
    found = api.json(api.query(f"select * from Invoice where MetaData.LastUpdatedTime >= '{since}'"))
    assert [row["Id"] for row in found["QueryResponse"]["Invoice"]] == [invoice_id]


def test_every_listed_entity_is_queryable(api: Any) -> None:
    for name in (
        "Invoice",
        "Customer",
        "Payment",
        "CreditMemo",
        "Account",
        "Vendor",
        "PaymentMethod",
        "Purchase",
        "Transfer",
        "RefundReceipt",
        "Deposit",
        "Item",
        "TaxCode",
    ):
        response = api.query(f"select * from {name} MAXRESULTS 5")
        assert response.status_code == 200, (name, response.text)
        assert isinstance(api.json(response)["QueryResponse"], dict)


def test_query_faults_over_http(api: Any) -> None:
    unknown = api.query("select * from Custmoer")
    assert unknown.status_code == 400
    fault = api.json(unknown)["Fault"]
    assert fault["type"] == "ValidationFault" and fault["Error"][0]["code"] == "4001"
    assert "Custmoer" in fault["Error"][0]["Detail"]
    too_many = api.query("select * from Invoice MAXRESULTS 5000")
    assert too_many.status_code == 400 and api.json(too_many)["Fault"]["Error"][0]["code"] == "4001"
    by_get = api.get("query", query="select * from Item MAXRESULTS 2")
    assert by_get.status_code == 200 and len(api.json(by_get)["QueryResponse"]["Item"]) == 2
