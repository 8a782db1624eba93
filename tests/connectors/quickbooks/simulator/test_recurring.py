"""Recurring invoice templates over HTTP: query, read, sparse update, delete, and the invoices the
simulator makes from active Automated templates as its clock moves (NextDate, EndDate, MaxOccurrences)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from samples import QBO_SAMPLES

from connectors.quickbooks.simulator import QboSimulator

TODAY = date(2026, 3, 10)  # the conftest clock's date (17:00 UTC is 09:00 in the company's zone)


def _invoices_of(sim: QboSimulator, template_id: str) -> list[dict[str, Any]]:
    return [i for i in sim.entities("Invoice") if (i.get("RecurDataRef") or {}).get("value") == template_id]


def _advance(clock: Any, api: Any, days: int) -> None:
    clock.advance(days=days)
    api.token = api.sim.mint_tokens(api.realm_id)["access_token"]  # the old one lived an hour


def _template(api: Any, template_id: str) -> dict[str, Any]:
    answer = api.json(api.get(f"recurringtransaction/{template_id}"))
    inner: dict[str, Any] = answer["RecurringTransaction"]["Invoice"]
    return inner


def test_query_and_read_wrap_the_template_like_the_sample(sim: QboSimulator, api: Any) -> None:
    template_id = sim.add_recurring(
        amount=Decimal("39.00"), start=TODAY + timedelta(days=5), max_occurrences=3
    )
    rows = api.json(api.query("select * from RecurringTransaction"))["QueryResponse"]["RecurringTransaction"]
    sample = json.loads((QBO_SAMPLES / "recurring_transaction_query.json").read_text())
    sample_row = sample["QueryResponse"]["RecurringTransaction"][0]
    row = next(r for r in rows if r["Invoice"]["Id"] == template_id)
    assert set(row) == set(sample_row) == {"Invoice"}
    inner = row["Invoice"]
    wanted = set(sample_row["Invoice"]["RecurringInfo"]) | {"ScheduleInfo"}
    assert set(inner["RecurringInfo"]) <= wanted
    assert {"IntervalType", "NumInterval", "StartDate", "NextDate"} <= set(
        inner["RecurringInfo"]["ScheduleInfo"]
    )
    assert Decimal(str(inner["TotalAmt"])) == Decimal("39.00")
    assert inner["RecurringInfo"]["ScheduleInfo"]["MaxOccurrences"] == 3
    assert _template(api, template_id)["SyncToken"] == "0"
    missing = api.get("recurringtransaction/999999")
    assert missing.status_code == 400 and "610" in missing.text


def test_sparse_update_deactivates_and_sets_end_date(sim: QboSimulator, api: Any) -> None:
    template_id = sim.add_recurring(start=TODAY + timedelta(days=1))
    current = _template(api, template_id)
    info = {**current["RecurringInfo"], "Active": False}
    info["ScheduleInfo"] = {**info["ScheduleInfo"], "EndDate": "2026-06-30"}
    body = {
        "Invoice": {
            "Id": template_id,
            "SyncToken": current["SyncToken"],
            "sparse": True,
            "RecurringInfo": info,
        }
    }
    updated = api.json(api.post("recurringtransaction", body, requestid="deact-1"))
    inner = updated["RecurringTransaction"]["Invoice"]
    assert inner["RecurringInfo"]["Active"] is False and inner["SyncToken"] == "1"
    assert inner["RecurringInfo"]["ScheduleInfo"]["EndDate"] == "2026-06-30"
    assert inner["Line"], "a sparse update keeps the fields it does not name"
    stale = api.post("recurringtransaction", body, requestid="deact-2")
    assert stale.status_code == 400 and "5010" in stale.text
    replay = api.json(api.post("recurringtransaction", body, requestid="deact-1"))
    assert replay == updated


def test_delete_removes_the_template(sim: QboSimulator, api: Any) -> None:
    template_id = sim.add_recurring(start=TODAY + timedelta(days=1))
    token = _template(api, template_id)["SyncToken"]
    gone = api.json(
        api.post(
            "recurringtransaction", {"Invoice": {"Id": template_id, "SyncToken": token}}, operation="delete"
        )
    )
    assert gone["RecurringTransaction"]["Invoice"]["status"] == "Deleted"
    assert api.get(f"recurringtransaction/{template_id}").status_code == 400


def test_invoices_are_made_as_the_clock_moves(sim: QboSimulator, api: Any, clock: Any) -> None:
    customer = sim.entities("Customer")[0]["Id"]
    template_id = sim.add_recurring(
        customer, Decimal("25.00"), start=TODAY + timedelta(days=2), interval="Weekly"
    )
    assert _invoices_of(sim, template_id) == []
    _advance(clock, api, 1)
    assert api.get(f"recurringtransaction/{template_id}").status_code == 200
    assert _invoices_of(sim, template_id) == [], "nothing before NextDate"
    _advance(clock, api, 1)
    after = _template(api, template_id)  # any request runs the schedule
    made = _invoices_of(sim, template_id)
    assert [i["TxnDate"] for i in made] == [(TODAY + timedelta(days=2)).isoformat()]
    assert made[0]["CustomerRef"]["value"] == customer and Decimal(str(made[0]["TotalAmt"])) == Decimal(
        "25.00"
    )
    schedule = after["RecurringInfo"]["ScheduleInfo"]
    assert schedule["PreviousDate"] == (TODAY + timedelta(days=2)).isoformat()
    assert schedule["NextDate"] == (TODAY + timedelta(days=9)).isoformat()
    clock.advance(days=14)  # two more weeks: both invoices, each on its own date
    sim.run_recurring()
    assert [i["TxnDate"] for i in _invoices_of(sim, template_id)] == [
        (TODAY + timedelta(days=d)).isoformat() for d in (2, 9, 16)
    ]


def test_max_occurrences_end_date_and_inactive_stop_generation(sim: QboSimulator, clock: Any) -> None:
    capped = sim.add_recurring(start=TODAY, interval="Monthly", max_occurrences=2)
    ending = sim.add_recurring(start=TODAY, interval="Monthly", end_date=TODAY + timedelta(days=40))
    inactive = sim.add_recurring(start=TODAY, interval="Monthly", active=False)
    reminded = sim.add_recurring(start=TODAY, interval="Monthly", recur_type="Reminded")
    clock.advance(days=200)
    sim.run_recurring()
    assert [i["TxnDate"] for i in _invoices_of(sim, capped)] == ["2026-03-10", "2026-04-10"]
    assert [i["TxnDate"] for i in _invoices_of(sim, ending)] == ["2026-03-10", "2026-04-10"]
    assert _invoices_of(sim, inactive) == [] and _invoices_of(sim, reminded) == []
    spent = sim.entity("RecurringTransaction", capped)
    assert spent is not None and "NextDate" not in spent["RecurringInfo"]["ScheduleInfo"]


def test_an_update_that_breaks_the_schedule_is_refused(sim: QboSimulator, api: Any) -> None:
    template_id = sim.add_recurring(start=TODAY + timedelta(days=3))
    current = _template(api, template_id)
    body = {
        "Invoice": {
            "Id": template_id,
            "SyncToken": current["SyncToken"],
            "sparse": True,
            "RecurringInfo": {"Active": False},
        }
    }
    refused = api.post("recurringtransaction", body)
    assert refused.status_code == 400
    assert _template(api, template_id)["RecurringInfo"]["Active"] is True


def test_a_batch_reads_templates_wrapped_and_refuses_to_write_them(sim: QboSimulator, api: Any) -> None:
    template_id = sim.add_recurring(start=TODAY + timedelta(days=3))
    body = {
        "BatchItemRequest": [
            {"bId": "q", "Query": "select * from RecurringTransaction"},
            {"bId": "w", "operation": "update", "RecurringTransaction": {"Invoice": {"Id": template_id}}},
        ]
    }
    items = {i["bId"]: i for i in api.json(api.post("batch", body))["BatchItemResponse"]}
    rows = items["q"]["QueryResponse"]["RecurringTransaction"]
    assert any(r["Invoice"]["Id"] == template_id for r in rows)
    assert "Fault" in items["w"]
    assert _template(api, template_id)["SyncToken"] == "0"
