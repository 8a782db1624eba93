"""Twilio's webhooks at syncd: signatures checked (good, bad, missing, unknown account), STOP ends
texts at once, START resumes them, HELP answers with the business and how to stop, and delivery
reports are recorded without ever moving a text's status back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from texting import CUSTOMER, PHONE, PUBLIC_URL, REALM, T0, consent, texting_context

from connectors.sms.simulator import TwilioSimulator
from connectors.sms.simulator.signing import signature
from syncd.context import Context
from syncd.ports.sms import TextStatus
from syncd.store import texts as store
from syncd.store.models import TextNumber, TextRow
from syncd.web.app import create_app

CONTRACTS = Path(__file__).parents[2] / "contracts" / "twilio"
KEY = f"sms:{REALM}:reminder:1042-0"


@pytest.fixture(scope="module")
def sim() -> Iterator[TwilioSimulator]:
    with TwilioSimulator() as running:  # its credentials and number; the tests post as Twilio would
        yield running


@pytest.fixture
def ctx(tmp_path: Path, sim: TwilioSimulator) -> Iterator[Context]:
    with texting_context(tmp_path, sim) as context:
        consent(context)
        yield context


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as found:
        yield found


def _inbound(sim: TwilioSimulator, body: str, **changes: str) -> dict[str, str]:
    return {
        "AccountSid": sim.account_sid,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": PHONE,
        "MessageSid": "SM" + "1" * 32,
        "NumMedia": "0",
        "To": sim.number,
        **changes,
    }


def _post(client: TestClient, path: str, form: dict[str, str], token: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature(token, PUBLIC_URL + path, form)} if token else {}
    return client.post(path, data=form, headers=headers)


def _opted_out(ctx: Context) -> bool:
    with ctx.db.transaction() as s:
        row = s.get(TextNumber, (REALM, CUSTOMER))
        assert row is not None
        return row.opted_out_at is not None


def test_stop_opts_out_at_once_and_start_resumes(
    ctx: Context, client: TestClient, sim: TwilioSimulator
) -> None:
    r = _post(client, "/webhooks/twilio", _inbound(sim, " Stop "), sim.auth_token)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert "<Message>Northwind IT: you will get no more texts" in r.text
    assert _opted_out(ctx)
    r = _post(client, "/webhooks/twilio", _inbound(sim, "START"), sim.auth_token)
    assert "texts are on again" in r.text and not _opted_out(ctx)


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_every_stop_word_opts_out(ctx: Context, client: TestClient, sim: TwilioSimulator, word: str) -> None:
    _post(client, "/webhooks/twilio", _inbound(sim, word), sim.auth_token)
    assert _opted_out(ctx)


def test_help_names_the_business_and_how_to_stop(
    ctx: Context, client: TestClient, sim: TwilioSimulator
) -> None:
    r = _post(client, "/webhooks/twilio", _inbound(sim, "help"), sim.auth_token)
    assert r.status_code == 200
    text = r.text
    assert "Northwind IT" in text and "+1 555 0100" in text and "Reply STOP" in text
    assert not _opted_out(ctx)


@pytest.mark.parametrize("token", [None, "not-the-auth-token"], ids=["missing", "forged"])
def test_unsigned_or_forged_webhooks_are_refused(
    ctx: Context, client: TestClient, sim: TwilioSimulator, token: str | None
) -> None:
    assert _post(client, "/webhooks/twilio", _inbound(sim, "STOP"), token).status_code == 403
    status = {"AccountSid": sim.account_sid, "MessageSid": "SM1", "MessageStatus": "failed"}
    assert _post(client, f"/webhooks/twilio/status?key={KEY}", status, token).status_code == 403
    assert not _opted_out(ctx)


def test_a_signature_over_other_params_or_another_account_is_refused(
    ctx: Context, client: TestClient, sim: TwilioSimulator
) -> None:
    form = _inbound(sim, "HELP")
    headers = {"X-Twilio-Signature": signature(sim.auth_token, PUBLIC_URL + "/webhooks/twilio", form)}
    r = client.post("/webhooks/twilio", data={**form, "Body": "STOP"}, headers=headers)
    assert r.status_code == 403 and not _opted_out(ctx)
    other = _inbound(sim, "STOP", AccountSid="AC" + "9" * 32)
    assert _post(client, "/webhooks/twilio", other, sim.auth_token).status_code == 403
    assert not _opted_out(ctx)


def test_status_callbacks_are_recorded_and_never_move_back(
    ctx: Context, client: TestClient, sim: TwilioSimulator
) -> None:
    with ctx.db.transaction() as s:
        store.record_text(
            s, key=KEY, company_id=REALM, customer_id=CUSTOMER, number=PHONE, status=TextStatus.QUEUED, now=T0
        )
    # Twilio's published callback form (an undelivered text), aimed at our account and text.
    form = {
        k: str(v) for k, v in json.loads((CONTRACTS / "status_callback_undelivered.json").read_text()).items()
    }
    form["AccountSid"] = sim.account_sid
    path = f"/webhooks/twilio/status?key={KEY}"
    assert _post(client, path, form, sim.auth_token).status_code == 204
    late = {**form, "MessageStatus": "sent", "SmsStatus": "sent"}
    late.pop("ErrorCode")
    assert _post(client, path, late, sim.auth_token).status_code == 204
    with ctx.db.transaction() as s:
        row = s.get(TextRow, KEY)
        assert row is not None
        assert (row.status, row.error_code, row.sid) == ("undelivered", 30005, "SMfake")


def test_an_oversized_form_is_refused_unread(client: TestClient, sim: TwilioSimulator) -> None:
    form = _inbound(sim, "x" * 70_000)
    assert _post(client, "/webhooks/twilio", form, sim.auth_token).status_code == 413


def test_a_malformed_callback_is_a_400(client: TestClient, sim: TwilioSimulator) -> None:
    form = {"AccountSid": sim.account_sid, "MessageSid": "SM1", "MessageStatus": "exploded"}
    assert _post(client, "/webhooks/twilio/status", form, sim.auth_token).status_code == 400
