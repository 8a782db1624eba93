"""Findings 3 and 4 against the real ``syncd run`` process over both simulators: Pay pressed with
three amounts leaves only the last Checkout Session payable, two tabs share one session, and a
syncd Payment deleted in QBO holds its invoice (page, Pay refused, one staff email) until
``syncd entries --rebook`` writes it again."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests
from world import Daemon, PortalClient, World

from connectors.stripe.simulator.errors import ApiError
from syncd.links import Links
from syncd.secrets import SecretBox

STAFF = "staff@northwind.test"


def _usd_open(world: World) -> list[dict[str, Any]]:
    home = [
        inv
        for inv in world.qbo.entities("Invoice")
        if (inv.get("CurrencyRef") or {}).get("value", "USD") == "USD" and Decimal(str(inv["Balance"])) >= 50
    ]
    return sorted(home, key=lambda inv: int(inv["Id"]))


def _session(world: World, session_id: str) -> dict[str, Any]:
    return next(s for s in world.stripe.objects("checkout.session") if s["id"] == session_id)


def _intent_payments(world: World, intent_id: str) -> list[dict[str, Any]]:
    return [p for p in world.qbo.entities("Payment") if intent_id in str(p.get("PrivateNote", ""))]


def test_sessions_and_deleted_payment_under_syncd_run(
    world: World, daemon: Callable[[], Daemon], portal: PortalClient
) -> None:
    settings = world.write_config(staff_email=STAFF)
    links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
    realm = world.qbo.realm_id
    first, second = _usd_open(world)[:2]
    url = links.url(realm, str(first["Id"]))
    proc = daemon()
    proc.start()
    world.wait_until(
        lambda: requests.get(url, timeout=5).status_code == 200, timeout=60, what="the invoice page"
    )

    # Finding 3: three Pay presses with different amounts; only the last session can be paid.
    balance = Decimal(str(first["Balance"]))
    sessions = [portal.start_payment(url, amount) for amount in ("10.00", "20.00", str(balance))]
    assert len(set(sessions)) == 3
    assert [_session(world, s)["status"] for s in sessions] == ["expired", "expired", "open"]
    for old in sessions[:2]:
        with pytest.raises(ApiError, match="expired"):
            world.stripe.pay_checkout(old, "card_success")
    world.stripe.pay_checkout(sessions[-1], "card_success")
    intent = str(_session(world, sessions[-1])["payment_intent"])
    world.wait_until(lambda: bool(_intent_payments(world, intent)), timeout=60, what="the QBO Payment")
    (booked,) = _intent_payments(world, intent)
    assert Decimal(str(booked["TotalAmt"])) == balance
    world.wait_until(
        lambda: Decimal(str(world.qbo.entity("Invoice", str(first["Id"]))["Balance"])) == 0,
        timeout=30,
        what="the invoice paid in QBO",
    )

    # Two tabs with the same amount share one session.
    other_url = links.url(realm, str(second["Id"]))
    world.wait_until(
        lambda: requests.get(other_url, timeout=5).status_code == 200, timeout=30, what="the second page"
    )
    tab = type(portal)()
    try:
        assert portal.start_payment(other_url, "12.00") == tab.start_payment(other_url, "12.00")
    finally:
        tab.close()

    # Finding 4: the bookkeeper deletes syncd's Payment; the QBO webhook makes the daemon pull.
    world.qbo.delete_entity("Payment", str(booked["Id"]))
    world.wait_until(
        lambda: "being reviewed" in requests.get(url, timeout=5).text, timeout=60, what="the review page"
    )
    sessions_before = len(world.stripe.objects("checkout.session"))
    page = portal.http.get(url, timeout=10).text
    assert "csrf_token" not in page
    refused = portal.http.post(f"{url}/pay", data={"csrf_token": "x"}, allow_redirects=False, timeout=10)
    assert refused.status_code != 303
    assert len(world.stripe.objects("checkout.session")) == sessions_before

    def alerts() -> list[Any]:
        return [m for m in world.sink.mailbox.all() if STAFF in m.to and "held for review" in m.subject]

    world.wait_until(lambda: bool(alerts()), timeout=30, what="the staff email")
    (alert,) = alerts()
    assert intent in (alert.text or "") and f"--rebook {booked['Id']}" in (alert.text or "")

    listed = world.syncd("entries", "--company", realm)
    assert listed.returncode == 0 and str(booked["Id"]) in listed.stdout, listed.stderr
    rebook = world.syncd("entries", "--company", realm, "--rebook", str(booked["Id"]))
    assert rebook.returncode == 0, rebook.stderr
    world.wait_until(
        lambda: [p["Id"] for p in _intent_payments(world, intent)] not in ([], [booked["Id"]]),
        timeout=60,
        what="the rebooked Payment",
    )
    assert len(_intent_payments(world, intent)) == 1
    world.wait_until(
        lambda: "paid in full" in requests.get(url, timeout=5).text, timeout=60, what="the page paid again"
    )
    assert len(alerts()) == 1
    proc.stop()
