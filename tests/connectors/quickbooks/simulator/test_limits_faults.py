"""Per-company limits (500/min, 10 in flight) and faults on demand, over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from samples import QBO_SAMPLES

from connectors.quickbooks.simulator import QboSimulator

CONTRACTS = QBO_SAMPLES


def _xml_fault_ok(response: requests.Response) -> None:
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/xml")
    assert response.content == (CONTRACTS / "throttle_429.xml").read_bytes()


def test_500_requests_per_minute_then_429_xml(sim: QboSimulator, api: Any, clock: Any) -> None:
    url = f"{api.base}/companyinfo/{sim.realm_id}"
    headers = api.headers()

    def calls(n: int) -> list[int]:
        with requests.Session() as session:
            return [session.get(url, headers=headers, timeout=10).status_code for _ in range(n)]

    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = [code for chunk in pool.map(calls, [100] * 5) for code in chunk]
    assert codes.count(200) == 500
    throttled = api.get(f"companyinfo/{sim.realm_id}")
    _xml_fault_ok(throttled)
    assert sim.counts()["throttled"] == 1 and sim.counts()["read"] == 500
    clock.advance(seconds=30)
    _xml_fault_ok(api.get(f"companyinfo/{sim.realm_id}"))
    clock.advance(seconds=31)  # the sliding window has moved past all 500
    assert api.get(f"companyinfo/{sim.realm_id}").status_code == 200


def test_more_than_10_in_flight_is_throttled(sim: QboSimulator, api: Any) -> None:
    sim.faults.latency_seconds = 0.5
    url = f"{api.base}/companyinfo/{sim.realm_id}"
    headers = api.headers()
    barrier = threading.Barrier(12)

    def call(_: int) -> int:
        with requests.Session() as session:
            barrier.wait()
            return session.get(url, headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(call, range(12)))
    assert codes.count(429) >= 1 and codes.count(200) <= 10


def test_throttle_next_even_when_json_was_asked(sim: QboSimulator, api: Any) -> None:
    sim.faults.throttle_next(2)
    _xml_fault_ok(api.get(f"companyinfo/{sim.realm_id}"))
    _xml_fault_ok(api.query("select * from Item"))
    assert api.get(f"companyinfo/{sim.realm_id}").status_code == 200
    assert sim.counts()["throttled"] == 2


def test_unauthorized_next_and_expired_tokens(sim: QboSimulator, api: Any) -> None:
    sim.faults.unauthorized_next(1)
    denied = api.get(f"companyinfo/{sim.realm_id}")
    assert denied.status_code == 401 and denied.json()["fault"]["error"][0]["code"] == "3200"
    assert api.get(f"companyinfo/{sim.realm_id}").status_code == 200
    sim.faults.expire_access_tokens()
    assert api.get(f"companyinfo/{sim.realm_id}").status_code == 401


def test_stale_next_fails_the_next_update(sim: QboSimulator, api: Any) -> None:
    invoice_id = sim.add_invoice()
    row = sim.entity("Invoice", invoice_id)
    assert row is not None
    sim.faults.stale_next(1)
    body = {"Id": invoice_id, "SyncToken": row["SyncToken"], "sparse": True, "PrivateNote": "n"}
    stale = api.post("invoice", body)
    assert stale.status_code == 400 and api.json(stale)["Fault"]["Error"][0]["code"] == "5010"
    assert api.post("invoice", body).status_code == 200


def test_error_rate_gives_5xx_faults(sim: QboSimulator, api: Any) -> None:
    sim.faults.error_rate = 1.0
    failed = api.get(f"companyinfo/{sim.realm_id}")
    assert failed.status_code == 500 and "Fault" in api.json(failed)
    sim.faults.reset()
    assert api.get(f"companyinfo/{sim.realm_id}").status_code == 200


def test_timeout_rate_hangs_past_the_client_timeout_then_504(sim: QboSimulator, api: Any) -> None:
    sim.faults.timeout_rate = 1.0
    sim.faults.timeout_seconds = 0.6
    with pytest.raises(requests.Timeout):
        api.session.get(f"{api.base}/companyinfo/{sim.realm_id}", headers=api.headers(), timeout=0.2)
    late = requests.get(f"{api.base}/companyinfo/{sim.realm_id}", headers=api.headers(), timeout=5)
    assert late.status_code == 504 and "Fault" in late.json()
    sim.faults.reset()


def test_counts_by_kind(sim: QboSimulator, api: Any) -> None:
    api.get(f"companyinfo/{sim.realm_id}")
    api.query("select * from Item")
    api.post("vendor", {"DisplayName": "Counted Vendor"})
    api.post("batch", {"BatchItemRequest": [{"bId": "1", "Query": "select * from Item"}]})
    assert sim.counts() == {"read": 2, "write": 1, "batch": 1, "throttled": 0}


def test_a_timed_out_write_is_committed_and_its_requestid_replays(sim: QboSimulator, api: Any) -> None:
    sim.faults.timeout_rate = 1.0
    sim.faults.timeout_seconds = 0.6
    with pytest.raises(requests.Timeout):
        api.session.post(
            f"{api.base}/vendor",
            params={"requestid": "v-1"},
            json={"DisplayName": "Slow Vendor"},
            headers=api.headers(),
            timeout=0.2,
        )
    sim.faults.reset()  # also ends the hung request server-side
    retried = api.post("vendor", {"DisplayName": "Slow Vendor"}, requestid="v-1")
    assert retried.status_code == 200 and api.json(retried)["Vendor"]["DisplayName"] == "Slow Vendor"
    assert [v["DisplayName"] for v in sim.entities("Vendor")].count("Slow Vendor") == 1
