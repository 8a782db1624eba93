"""Link write-back in batch calls: no read, one requestid per batch, a stale item re-read alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.links import link_fields
from connectors.quickbooks.simulator import QboSimulator
from syncd.domain import QboEntryRef
from syncd.ports.quickbooks import LinkWrite

Make = Callable[..., QboConnector]


def _open_invoices(sim: QboSimulator, n: int) -> list[dict[str, Any]]:
    return [row for row in sim.entities("Invoice") if float(row["Balance"]) > 0][:n]


def _items(rows: list[dict[str, Any]]) -> list[LinkWrite]:
    return [
        LinkWrite(
            invoice_id=row["Id"],
            sync_token=row["SyncToken"],
            memo=(row.get("CustomerMemo") or {}).get("value"),
            url=f"https://pay.example.com/i/{row['Id']}",
        )
        for row in rows
    ]


def test_thirty_links_cost_one_batch_call_and_no_read(token_store: Any, make_sim_connector: Make) -> None:
    with QboSimulator(seed=2, invoices=120) as sim:
        token_store.save_payload(sim.realm_id, sim.mint_tokens())
        qbo = make_sim_connector(sim, token_store)
        items = _items(_open_invoices(sim, 30))
        assert len(items) == 30
        results = qbo.set_invoice_links(items, request_id="qbo:links:test:1")
        counts = qbo.counts()
        assert (counts.batches, counts.reads, counts.writes) == (1, 0, 0)
        assert all(isinstance(r, QboEntryRef) for r in results)
        for item in items:
            assert item.url in sim.entity("Invoice", item.invoice_id)["CustomerMemo"]["value"]
        # A crash after sending and before recording: the same batch again is replayed by QBO.
        tokens = {item.invoice_id: sim.entity("Invoice", item.invoice_id)["SyncToken"] for item in items}
        again = qbo.set_invoice_links(items, request_id="qbo:links:test:1")
        assert again == results
        assert {i.invoice_id: sim.entity("Invoice", i.invoice_id)["SyncToken"] for i in items} == tokens


def test_a_stale_sync_token_rereads_only_that_invoice(token_store: Any, make_sim_connector: Make) -> None:
    with QboSimulator(seed=3, invoices=120) as sim:
        token_store.save_payload(sim.realm_id, sim.mint_tokens())
        qbo = make_sim_connector(sim, token_store)
        rows = _open_invoices(sim, 5)
        items = _items(rows)
        sim.update_invoice(rows[2]["Id"], PrivateNote="edited by the bookkeeper")  # SyncToken moves on
        results = qbo.set_invoice_links(items, request_id="qbo:links:test:2")
        assert all(isinstance(r, QboEntryRef) for r in results), results
        counts = qbo.counts()
        assert (counts.batches, counts.reads, counts.writes) == (1, 1, 1)
        edited = sim.entity("Invoice", rows[2]["Id"])
        assert (
            items[2].url in edited["CustomerMemo"]["value"]
            and edited["PrivateNote"] == "edited by the bookkeeper"
        )


def test_a_link_already_in_the_memo_is_not_written() -> None:
    assert link_fields("Pay online: https://x/i/1", [], "https://x/i/1", None) is None
    assert link_fields("Thanks", [], "https://x/i/1", None) == {
        "CustomerMemo": {"value": "Thanks\n\nPay online: https://x/i/1"}
    }
