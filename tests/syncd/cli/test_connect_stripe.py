"""``syncd connect stripe`` against the Stripe simulator's WebhookEndpoints API: one endpoint with
exactly syncd's event types, idempotent, kept in step with ``web.public_url``, its secret stored
encrypted and used by the daemon's connector when ``stripe.webhook_secret`` is empty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator
from connectors.stripe.simulator.webhooks import sign
from syncd.bootstrap import build_context
from syncd.cli.main import EX_CONFIG, run
from syncd.config import load
from syncd.domain import STRIPE_WEBHOOK_EVENTS
from syncd.errors import SignatureError
from syncd.secrets import SecretBox
from syncd.store import webhook_secret
from syncd.store.engine import Database
from syncd.store.models import Secret


@pytest.fixture
def sim() -> Iterator[StripeSimulator]:
    with StripeSimulator() as running:
        yield running


@pytest.fixture
def client(sim: StripeSimulator) -> Any:
    return stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url}, max_network_retries=0)


def write_config(
    path: Path, sim: StripeSimulator, *, public_url: str = "http://127.0.0.1:8000", key: str | None = None
) -> Path:
    secret_key = path.read_text().split('"')[1] if path.exists() else SecretBox.generate()
    path.write_text(
        f'secret_key = "{secret_key}"\n'
        f'[database]\nurl = "sqlite:///{path.parent}/syncd.db"\n'
        f'[web]\npublic_url = "{public_url}"\n'
        f'[stripe]\napi_key = "{key or sim.api_key}"\napi_base = "{sim.url}"\n'
    )
    return path


def endpoints(client: Any) -> list[dict[str, Any]]:
    return [e.to_dict() for e in client.v1.webhook_endpoints.list().auto_paging_iter()]


def stored(config: Path) -> webhook_secret.StoredEndpoint | None:
    settings = load(config)
    db = Database(settings.database_url)
    try:
        return webhook_secret.load(db, SecretBox(settings.secret_key))
    finally:
        db.dispose()


def connect(config: Path) -> int:
    return run(["--config", str(config), "connect", "stripe"])


def test_running_it_twice_leaves_one_endpoint_with_syncds_events(
    tmp_path: Path, sim: StripeSimulator, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim)
    assert connect(config) == 0
    first = capsys.readouterr().out
    assert "created: http://127.0.0.1:8000/webhooks/stripe" in first
    [endpoint] = endpoints(client)
    assert endpoint["url"] == "http://127.0.0.1:8000/webhooks/stripe"
    assert endpoint["status"] == "enabled"
    assert sorted(endpoint["enabled_events"]) == sorted(STRIPE_WEBHOOK_EVENTS)
    assert endpoint["metadata"] == {"managed_by": "syncd"}
    saved = stored(config)
    assert saved is not None and saved.endpoint_id == endpoint["id"]
    assert saved.secret.startswith("whsec_")

    assert connect(config) == 0
    assert f"{endpoint['id']} unchanged" in capsys.readouterr().out
    assert [e["id"] for e in endpoints(client)] == [endpoint["id"]]
    assert stored(config) == saved


def test_the_secret_is_encrypted_and_verifies_what_the_endpoint_is_sent(
    tmp_path: Path, sim: StripeSimulator, client: Any
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim)
    assert connect(config) == 0
    saved = stored(config)
    assert saved is not None
    db = Database(load(config).database_url)
    with db.transaction() as session:
        row = session.get(Secret, ("*", "stripe_webhook"))
        assert row is not None and saved.secret.encode() not in row.ciphertext
    db.dispose()

    ctx = build_context(load(config))
    try:
        body = b'{"id": "evt_1", "object": "event", "type": "customer.created", "created": 1,'
        body += b' "livemode": false, "data": {"object": {"id": "cus_1", "object": "customer"}}}'
        event = ctx.stripe.parse_webhook(body, sign(body, saved.secret, int(time.time())))
        assert event.id == "evt_1"
        with pytest.raises(SignatureError) as forged:
            ctx.stripe.parse_webhook(body, sign(body, "whsec_forged", int(time.time())))
        assert "Stripe-Signature" in str(forged.value)
    finally:
        ctx.db.dispose()


def test_a_moved_public_url_or_a_disabled_endpoint_is_brought_back_in_step(
    tmp_path: Path, sim: StripeSimulator, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim)
    assert connect(config) == 0
    [endpoint] = endpoints(client)
    secret = stored(config)
    client.v1.webhook_endpoints.update(endpoint["id"], params={"disabled": True})
    write_config(config, sim, public_url="https://pay.example.com")
    capsys.readouterr()
    assert connect(config) == 0
    assert f"{endpoint['id']} updated: https://pay.example.com/webhooks/stripe" in capsys.readouterr().out
    [moved] = endpoints(client)
    assert moved["id"] == endpoint["id"]
    assert (moved["url"], moved["status"]) == ("https://pay.example.com/webhooks/stripe", "enabled")
    after = stored(config)
    assert after is not None and secret is not None
    assert (after.secret, after.url) == (secret.secret, "https://pay.example.com/webhooks/stripe")


def test_an_endpoint_whose_secret_is_not_stored_is_replaced_and_others_are_left_alone(
    tmp_path: Path, sim: StripeSimulator, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Set up by hand before syncd had `connect stripe`, and one more that is not syncd's at all.
    by_hand = sim.add_webhook_endpoint("http://127.0.0.1:8000/webhooks/stripe", "whsec_by_hand")
    theirs = sim.add_webhook_endpoint("https://crm.example.com/stripe", enabled_events=("customer.created",))
    config = write_config(tmp_path / "syncd.toml", sim)
    assert connect(config) == 0
    out = capsys.readouterr().out
    assert "replaced" in out and f"Deleted syncd's other endpoints: {by_hand['id']}." in out
    listed = {e["id"]: e for e in endpoints(client)}
    assert theirs["id"] in listed and by_hand["id"] not in listed
    [ours] = [e for e in listed.values() if e["url"].endswith("/webhooks/stripe")]
    saved = stored(config)
    assert saved is not None and saved.endpoint_id == ours["id"] and saved.secret != "whsec_by_hand"


def test_a_refused_key_names_the_setting(
    tmp_path: Path, sim: StripeSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim, key="sk_test_not_the_right_one")
    assert connect(config) == EX_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("syncd: stripe.api_key: Stripe refused it")
    assert "\n" not in err


def test_a_live_key_needs_an_https_public_url(
    tmp_path: Path, sim: StripeSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim, key="sk_live_abc")
    assert connect(config) == EX_CONFIG
    assert capsys.readouterr().err.startswith("syncd: web.public_url: must be https://")


def test_an_endpoint_deleted_at_stripe_is_made_again(
    tmp_path: Path, sim: StripeSimulator, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim)
    assert connect(config) == 0
    before = stored(config)
    assert before is not None
    client.v1.webhook_endpoints.delete(before.endpoint_id)
    capsys.readouterr()
    assert connect(config) == 0
    assert " created: " in capsys.readouterr().out
    [endpoint] = endpoints(client)
    after = stored(config)
    assert after is not None and after.endpoint_id == endpoint["id"] != before.endpoint_id
    assert after.secret != before.secret


def test_before_connecting_a_webhook_is_refused_saying_what_to_run(
    tmp_path: Path, sim: StripeSimulator
) -> None:
    config = write_config(tmp_path / "syncd.toml", sim)
    assert run(["--config", str(config), "migrate"]) == 0
    ctx = build_context(load(config))
    try:
        body = b'{"id": "evt_1", "object": "event", "type": "customer.created"}'
        with pytest.raises(SignatureError, match="run `syncd connect stripe`"):
            ctx.stripe.parse_webhook(body, sign(body, "whsec_anything", int(time.time())))
    finally:
        ctx.db.dispose()
