"""The human page and the command line entry."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator.cli import main


def test_page_lists_invoices_and_turns_paid(sim: QboSimulator, api: Any) -> None:
    invoice_id = sim.add_invoice(amount=Decimal("42.00"), doc_number="DEMO-1")
    page = requests.get(sim.url + "/", timeout=5)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Northwind IT Services" in page.text and "DEMO-1" in page.text
    row = page.text.split(f'data-id="{invoice_id}"', 1)[1].split("</tr>", 1)[0]
    assert "open" in row
    sim.record_offline_payment(invoice_id, Decimal("42.00"))
    after = requests.get(f"{sim.url}/company/{sim.realm_id}/ui", timeout=5).text
    row = after.split(f'data-id="{invoice_id}"', 1)[1].split("</tr>", 1)[0]
    assert ">paid<" in row
    assert "Recent payments" in after


def test_page_escapes_qbo_text(sim: QboSimulator, api: Any) -> None:
    customer = api.json(api.post("customer", {"DisplayName": "<script>alert(1)</script> & Co"}))["Customer"]
    sim.add_invoice(customer["Id"], Decimal("5.00"), doc_number='"><img src=x>')
    text = requests.get(sim.url + "/", timeout=5).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
    assert '"><img src=x>' not in text


def test_cli_serves_and_prints_urls_and_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            main(["--port", "0", "--invoices", "12", "--seed", "3", "--json"], stop=stop)
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 20
        out = ""
        while '"refresh_token"' not in out and time.monotonic() < deadline:
            time.sleep(0.05)
            out += capsys.readouterr().out
        assert '"discovery_url"' in out and '"api_base_url"' in out
        url = out.split('"url": "', 1)[1].split('"', 1)[0]
        token = out.split('"access_token": "', 1)[1].split('"', 1)[0]
        realm = out.split('"realm_id": "', 1)[1].split('"', 1)[0]
        count = requests.post(
            f"{url}/v3/company/{realm}/query",
            data="select count(*) from Invoice",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert count["QueryResponse"]["totalCount"] == 12
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
