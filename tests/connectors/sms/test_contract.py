"""One contract for every ``Sms``: the Twilio connector over the simulator and the in-memory fake
stage tests may use. Sending returns a queued ``SM`` sid; a retry with ``since`` finds the text
instead of sending it twice; 21211, 21610 and 429 are the errors the port names; a webhook's
signature is checked (good, tampered, missing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fakes.sms import FakeSms

from connectors.sms.client import TwilioConnector
from connectors.sms.simulator import TwilioSimulator
from connectors.sms.simulator.signing import signature
from syncd.errors import PermanentError, SignatureError, ThrottledError
from syncd.ports.sms import InvalidNumberError, OptedOutError, Sms, TextStatus

FROM = "+15005550006"
CALLBACK = "https://syncd.example/webhooks/twilio/status"


@dataclass
class Subject:
    sms: Sms
    token: str
    sent_to: Callable[[str], int]
    make_invalid: Callable[[str], None]
    opt_out: Callable[[str], None]
    throttle: Callable[[], None]


@pytest.fixture(scope="module")
def sim() -> Iterator[TwilioSimulator]:
    with TwilioSimulator(number=FROM, mps=50) as running:
        yield running


@pytest.fixture(params=["simulator", "fake"])
def subject(request: pytest.FixtureRequest, sim: TwilioSimulator) -> Subject:
    if request.param == "fake":
        fake = FakeSms()
        return Subject(
            fake,
            fake.auth_token,
            lambda to: sum(t.to == to for t in fake.sent),
            fake.invalid.add,
            fake.opted_out.add,
            lambda: setattr(fake, "throttled", 1),
        )
    return Subject(
        TwilioConnector(sim.account_sid, sim.auth_token, api_base=sim.url),
        sim.auth_token,
        lambda to: len(sim.sent_to(to)),
        lambda to: None,  # the simulator refuses numbers phonenumbers says are none
        lambda to: sim.state.opted_out.add((to, FROM)),
        lambda: sim.throttle(1),
    )


def test_send_then_a_retry_finds_it(subject: Subject) -> None:
    to = "+14155550140"
    before = subject.sent_to(to)
    since = datetime.now(UTC) - timedelta(seconds=5)
    first = subject.sms.send(to=to, from_=FROM, body="b1", status_callback=CALLBACK, key="k1")
    assert first.sid.startswith("SM") and first.status is TextStatus.QUEUED
    again = subject.sms.send(to=to, from_=FROM, body="b1", status_callback=CALLBACK, key="k1", since=since)
    assert again.sid == first.sid and subject.sent_to(to) == before + 1


def test_the_errors_the_port_names(subject: Subject) -> None:
    subject.make_invalid("+15550000000")
    with pytest.raises(InvalidNumberError):
        subject.sms.send(to="+15550000000", from_=FROM, body="b", status_callback=CALLBACK, key="k")
    subject.opt_out("+14155550141")
    with pytest.raises(OptedOutError):
        subject.sms.send(to="+14155550141", from_=FROM, body="b", status_callback=CALLBACK, key="k")
    subject.throttle()
    with pytest.raises(ThrottledError) as throttled:
        subject.sms.send(to="+14155550142", from_=FROM, body="b", status_callback=CALLBACK, key="k")
    assert throttled.value.retry_after == 1.0


def test_signatures_and_webhook_forms(subject: Subject) -> None:
    url = f"{CALLBACK}?key=sms%3Ar%3Areminder%3A1"
    form = {"AccountSid": "AC1", "MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30003"}
    subject.sms.verify(url, form, signature(subject.token, url, form))
    with pytest.raises(SignatureError):
        subject.sms.verify(url, {**form, "MessageStatus": "delivered"}, signature(subject.token, url, form))
    with pytest.raises(SignatureError):
        subject.sms.verify(url, form, None)
    report = subject.sms.status_of(form)
    assert (report.status, report.error_code) == (TextStatus.FAILED, 30003)
    with pytest.raises(PermanentError):
        subject.sms.status_of({"MessageSid": "SM1"})
    assert "<Message>hi</Message>" in subject.sms.reply("hi")
