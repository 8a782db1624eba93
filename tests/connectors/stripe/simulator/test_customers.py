from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.simulator import StripeSimulator


def test_create_retrieve_update_customer(client: Any) -> None:
    created = client.v1.customers.create(
        params={
            "name": "Acme Alarm",
            "email": "ap@acme.test",
            "metadata": {"company": "c1", "qbo_customer_id": "58"},
        }
    )
    assert created.id.startswith("cus_")
    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.email == "ap@acme.test"
    assert fetched.metadata.to_dict() == {"company": "c1", "qbo_customer_id": "58"}
    updated = client.v1.customers.update(
        created.id, params={"email": "billing@acme.test", "metadata": {"extra": "x"}}
    )
    assert updated.email == "billing@acme.test"
    assert updated.metadata.to_dict() == {"company": "c1", "qbo_customer_id": "58", "extra": "x"}


def test_search_by_metadata_finds_only_the_match(client: Any) -> None:
    wanted = client.v1.customers.create(
        params={"name": "A", "metadata": {"qbo_customer_id": "58", "company": "c1"}}
    )
    client.v1.customers.create(params={"name": "B", "metadata": {"qbo_customer_id": "59", "company": "c1"}})
    found = client.v1.customers.search(
        params={"query": "metadata['qbo_customer_id']:'58' AND metadata['company']:'c1'"}
    )
    assert [c.id for c in found.data] == [wanted.id]
    assert client.v1.customers.search(params={"query": "metadata['qbo_customer_id']:'60'"}).data == []


def test_search_pages_through_next_page(client: Any) -> None:
    ids = {client.v1.customers.create(params={"metadata": {"k": "v"}}).id for _ in range(5)}
    page = client.v1.customers.search(params={"query": "metadata['k']:'v'", "limit": 2})
    assert page.has_more
    assert {c.id for c in page.auto_paging_iter()} == ids


def test_list_with_email_filter_and_cursor(client: Any) -> None:
    first = client.v1.customers.create(params={"email": "x@y.test"})
    client.v1.customers.create(params={"email": "other@y.test"})
    listed = client.v1.customers.list(params={"email": "x@y.test"})
    assert [c.id for c in listed.data] == [first.id]
    everything = list(client.v1.customers.list(params={"limit": 1}).auto_paging_iter())
    assert len(everything) == 2


def test_delete_customer(client: Any) -> None:
    created = client.v1.customers.create(params={"name": "Gone"})
    deleted = client.v1.customers.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.customers.list().data == []


def test_missing_customer_is_resource_missing(sim: StripeSimulator, api: requests.Session) -> None:
    response = api.get(f"{sim.url}/v1/customers/cus_nope")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "resource_missing"
    assert error["param"] == "id"


def test_unknown_param_is_rejected_through_the_sdk(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"nickname": "x"})
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "nickname"


def test_search_lag_hides_new_objects_until_time_passes() -> None:
    from datetime import timedelta

    with StripeSimulator(search_lag=timedelta(seconds=60)) as sim:
        client: Any = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
        client.v1.customers.create(params={"metadata": {"k": "v"}})
        assert client.v1.customers.search(params={"query": "metadata['k']:'v'"}).data == []
        sim.clock.advance(timedelta(seconds=60))
        assert len(client.v1.customers.search(params={"query": "metadata['k']:'v'"}).data) == 1
