from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator


def test_events_newest_first_with_cursors(client: Any) -> None:
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(5)]
    events = client.v1.events.list(params={"types": ["customer.created"]})
    assert [e.data.object.id for e in events.data] == list(reversed(ids))
    first_page = client.v1.events.list(params={"limit": 2})
    assert first_page.has_more
    second = client.v1.events.list(params={"limit": 2, "starting_after": first_page.data[-1].id})
    assert [e.data.object.id for e in second.data] == [ids[2], ids[1]]
    back = client.v1.events.list(params={"limit": 2, "ending_before": second.data[0].id})
    assert [e.id for e in back.data] == [e.id for e in first_page.data]
    assert len(list(client.v1.events.list(params={"limit": 2}).auto_paging_iter())) == 5


def test_event_envelope_and_snapshot(sim: StripeSimulator, client: Any) -> None:
    customer = client.v1.customers.create(params={"name": "Before"}, options={"idempotency_key": "make-cus"})
    client.v1.customers.update(customer.id, params={"name": "After"})
    created = client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert created.id.startswith("evt_")
    assert created.api_version == sim.api_version
    assert created.livemode is False
    assert created.request.idempotency_key == "make-cus"
    assert created.request.id.startswith("req_")
    assert created.data.object.name == "Before"
    updated = client.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert updated.data.object.name == "After"
    assert updated.data.previous_attributes.name == "Before"
    assert client.v1.events.retrieve(created.id).id == created.id


def test_created_filter_and_clock_events_have_no_request(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session()
    cutoff = int(sim.clock.now().timestamp()) + 1
    sim.clock.advance(timedelta(days=2))
    late = client.v1.events.list(params={"created": {"gte": cutoff}})
    assert [e.type for e in late.data] == ["checkout.session.expired"]
    assert late.data[0].data.object.id == session.id
    assert late.data[0].request.id is None


def test_type_wildcard(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_success")
    types = {e.type for e in client.v1.events.list(params={"type": "payment_intent.*"}).data}
    assert types == {"payment_intent.created", "payment_intent.succeeded"}


def test_unknown_cursor_is_an_error(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list(params={"starting_after": "evt_missing"})


def test_ending_before_pages_forward_in_time(client: Any) -> None:
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(6)]
    oldest = client.v1.events.list(params={"limit": 100}).data[-1]
    assert oldest.data.object.id == ids[0]
    newer = client.v1.events.list(params={"ending_before": oldest.id, "limit": 2}).auto_paging_iter()
    assert [e.data.object.id for e in newer] == ids[1:]


def test_events_older_than_30_days_are_gone(sim: StripeSimulator, client: Any) -> None:
    client.v1.customers.create(params={"name": "old"})
    old = client.v1.events.list().data[0]
    sim.clock.advance(timedelta(days=30, seconds=1))
    client.v1.customers.create(params={"name": "new"})
    assert [e.data.object.name for e in client.v1.events.list().data] == ["new"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(old.id)
