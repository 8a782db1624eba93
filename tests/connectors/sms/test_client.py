"""The Twilio connector held to one contract over the simulator and over ``responses`` stubs of
Twilio's published payloads: what ``send`` returns, the retry's lookup instead of a second send,
each error code mapped into the one tree, and the webhook signature (good, tampered, missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from twilio.request_validator import RequestValidator

from connectors.sms.client import TwilioConnector
from connectors.sms.simulator import TwilioSimulator
from connectors.sms.simulator.signing import signature
from syncd.errors import PermanentError, SignatureError, ThrottledError, ValidationError
from syncd.ports.sms import InvalidNumberError, SentText, TextStatus

CONTRACTS = Path(__file__).parents[2] / "contracts" / "twilio"
PHONE = "+14155550123"
CALLBACK = "https://syncd.example/webhooks/twilio/status"
KEY = "sms:9130350000000001:reminder:1042-0"


def _contract(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((CONTRACTS / name).read_text())
    return loaded


@pytest.fixture(scope="module")
def sim() -> Iterator[TwilioSimulator]:
    with TwilioSimulator(mps=50) as running:
        yield running


@pytest.fixture
def twilio(sim: TwilioSimulator) -> TwilioConnector:
    return TwilioConnector(sim.account_sid, sim.auth_token, api_base=sim.url)


def test_send_over_the_simulator_carries_our_key_in_the_callback(
    sim: TwilioSimulator, twilio: TwilioConnector
) -> None:
    sent = twilio.send(
        to=PHONE, from_=sim.number, body="Pay: https://p/i/1", status_callback=CALLBACK, key=KEY
    )
    assert sent.sid.startswith("SM") and len(sent.sid) == 34 and sent.status is TextStatus.QUEUED
    message = sim.state.find(sent.sid)
    assert message is not None and message.callback is not None
    assert parse_qs(urlsplit(message.callback).query) == {"key": [KEY]}
    assert (message.to, message.from_, message.body) == (PHONE, sim.number, "Pay: https://p/i/1")


def test_a_refused_token_names_the_settings(sim: TwilioSimulator) -> None:
    wrong = TwilioConnector(sim.account_sid, "wrong-token", api_base=sim.url)
    with pytest.raises(PermanentError, match="auth_token"):
        wrong.send(to=PHONE, from_=sim.number, body="x", status_callback=CALLBACK, key="k")


def test_a_retry_only_matches_the_same_body_since_the_first_attempt(
    sim: TwilioSimulator, twilio: TwilioConnector
) -> None:
    phone = "+14155550124"
    since = datetime.now(UTC) - timedelta(seconds=5)
    later = datetime.now(UTC) + timedelta(hours=1)
    first = twilio.send(to=phone, from_=sim.number, body="once", status_callback=CALLBACK, key="k1")
    other = twilio.send(
        to=phone, from_=sim.number, body="two", status_callback=CALLBACK, key="k2", since=since
    )
    again = twilio.send(
        to=phone, from_=sim.number, body="once", status_callback=CALLBACK, key="k1", since=later
    )
    assert len({first.sid, other.sid, again.sid}) == 3 and len(sim.sent_to(phone)) == 3


STUB_BASE = "https://api.twilio.com/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json"


def _twilio_calls(mock: responses.RequestsMock) -> list[responses.Call]:
    """The stubbed API's calls (the module's simulator posts callbacks through ``requests`` too)."""
    return [c for c in mock.calls if str(c.request.url).startswith(STUB_BASE)]


@pytest.fixture
def stubbed() -> Iterator[tuple[responses.RequestsMock, TwilioConnector]]:
    with responses.RequestsMock() as mock:
        yield mock, TwilioConnector("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token")


def test_published_create_response(stubbed: tuple[responses.RequestsMock, TwilioConnector]) -> None:
    mock, twilio = stubbed
    mock.post(STUB_BASE, json=_contract("message_create_response.json"), status=201)
    sent = twilio.send(to="+14155552345", from_="+14155552345", body="b", status_callback=CALLBACK, key=KEY)
    assert sent == SentText("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", TextStatus.SENT)
    form = parse_qs(str(_twilio_calls(mock)[0].request.body))
    assert form["To"] == ["+14155552345"] and form["From"] == ["+14155552345"]
    assert form["StatusCallback"] == [f"{CALLBACK}?key={KEY.replace(':', '%3A')}"]


def test_published_list_answers_the_retry_lookup(
    stubbed: tuple[responses.RequestsMock, TwilioConnector],
) -> None:
    mock, twilio = stubbed
    mock.get(STUB_BASE, json=_contract("message_list_response.json"))
    body = "O Slash: \u00d8, PoP: \U0001f4a9"
    since = datetime(2015, 9, 4, 22, 50, tzinfo=UTC)
    found = twilio.send(
        to="+14155552345", from_="MG" + "a" * 32, body=body, status_callback=CALLBACK, key=KEY, since=since
    )
    assert found.sid == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    (listed,) = _twilio_calls(mock)
    assert "To=%2B14155552345" in str(listed.request.url)


def test_published_errors(stubbed: tuple[responses.RequestsMock, TwilioConnector]) -> None:
    mock, twilio = stubbed
    mock.post(STUB_BASE, json=_contract("error_21211.json"), status=400)
    with pytest.raises(InvalidNumberError):
        twilio.send(to="+32486", from_="+14155552345", body="b", status_callback=CALLBACK, key=KEY)
    mock.replace(
        responses.POST,
        STUB_BASE,
        json={"code": 20429, "message": "Too Many Requests", "status": 429},
        status=429,
        headers={"Retry-After": "7"},
    )
    with pytest.raises(ThrottledError) as throttled:
        twilio.send(to="+14155552345", from_="+14155552345", body="b", status_callback=CALLBACK, key=KEY)
    assert throttled.value.retry_after == 7.0
    mock.replace(
        responses.POST, STUB_BASE, json={"code": 21602, "message": "Message body is required."}, status=400
    )
    with pytest.raises(ValidationError, match="21602"):
        twilio.send(to="+14155552345", from_="+14155552345", body="b", status_callback=CALLBACK, key=KEY)


def test_the_simulators_signature_is_twilios() -> None:
    form = {k: str(v) for k, v in _contract("status_callback_undelivered.json").items()}
    url = f"{CALLBACK}?key={KEY}"
    signed = signature("token", url, form)
    assert RequestValidator("token").validate(url, form, signed)
    twilio = TwilioConnector("AC" + "a" * 32, "token")
    twilio.verify(url, form, signed)
    with pytest.raises(SignatureError, match="does not match"):
        twilio.verify(url, {**form, "MessageStatus": "delivered"}, signed)
    with pytest.raises(SignatureError, match="missing"):
        twilio.verify(url, form, None)
    report = twilio.status_of(form)
    assert (report.sid, report.status, report.error_code) == ("SMfake", TextStatus.UNDELIVERED, 30005)


def test_inbound_form_and_twiml_reply() -> None:
    twilio = TwilioConnector("AC" + "a" * 32, "token")
    text = twilio.inbound_of(
        {"MessageSid": "SM1", "From": PHONE, "To": "+15005550006", "Body": "STOP", "AccountSid": "AC1"}
    )
    assert (text.sender, text.body) == (PHONE, "STOP")
    with pytest.raises(PermanentError):
        twilio.inbound_of({"Body": "STOP"})
    assert "<Message>a &amp; b</Message>" in twilio.reply("a & b")
    assert "<Message" not in twilio.reply(None)
