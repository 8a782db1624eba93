"""A customer's new billing email and phone, written as a sparse Customer update over HTTP to the
simulator: the other fields stay, a repeat writes nothing, and the change comes back through CDC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.quickbooks.client import QboConnector

Make = Callable[..., QboConnector]


def test_contact_update_is_sparse_idempotent_and_seen_by_cdc(
    sim: Any, token_store: Any, make_sim_connector: Make
) -> None:
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = make_sim_connector(sim, token_store)
    customer = sim.entities("Customer")[0]
    before = datetime.now(UTC) - timedelta(seconds=5)
    ref = qbo.update_customer_contact(
        customer["Id"], email="new@shop.test", phone="+1 555 0100", request_id="qbo:customer_contact:1"
    )
    after = sim.entity("Customer", customer["Id"])
    assert after["PrimaryEmailAddr"]["Address"] == "new@shop.test"
    assert after["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0100"
    assert after["DisplayName"] == customer["DisplayName"]  # sparse: nothing else changed
    assert int(after["SyncToken"]) == int(customer["SyncToken"]) + 1
    writes = qbo.counts().writes
    again = qbo.update_customer_contact(
        customer["Id"], email="new@shop.test", phone=None, request_id="qbo:customer_contact:2"
    )
    assert again.sync_token == ref.sync_token and qbo.counts().writes == writes
    changes = qbo.changes_since(before, datetime.now(UTC) + timedelta(seconds=1))
    assert any(c.qbo_id == customer["Id"] and c.email == "new@shop.test" for c in changes.customers)
