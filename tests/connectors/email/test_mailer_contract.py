"""The Mailer Protocol's contract, one suite over the SMTP connector (to the real sink over TCP) and
the in-memory fake (``fakes.mail``): what is delivered, and what is refused with nothing sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes.mail import FakeMailer

from connectors.email.sink import SmtpSink
from connectors.email.smtp import SmtpMailer
from syncd.errors import PermanentError, TransientError
from syncd.ports.email import EmailMessage, Mailer, SmtpSettings


@dataclass
class Backend:
    mailer: Mailer
    delivered: Callable[[], list[tuple[str, str, str]]]  # (Message-ID, To, Subject)
    refuse: Callable[[str], None]


@pytest.fixture(params=["smtp", "fake"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        fake = FakeMailer()
        yield Backend(fake, lambda: [(m.message_id, m.to, m.subject) for m in fake.sent], fake.refused.add)
        return
    with SmtpSink() as sink:
        mailer = SmtpMailer(
            SmtpSettings(host="127.0.0.1", port=sink.port, security="none", timeout_seconds=5)
        )
        yield Backend(
            mailer,
            lambda: [(m.message_id, m.to, m.subject) for m in reversed(sink.mailbox.all())],
            lambda address: sink.reject_recipient(address, "550 5.1.1 No such user"),
        )


def message(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": "customer@example.org",
        "subject": "Invoice 1042 from Acme: $73.40",
        "text": "Pay here: https://pay.example.com/i/tok\n",
        "html": '<p>Pay <a href="https://pay.example.com/i/tok">here</a></p>',
        "message_id": "<0123abcd@acme.example>",
        "from_addr": "Acme Billing <billing@acme.example>",
        "reply_to": "office@acme.example",
    }
    fields.update(changes)
    return EmailMessage(**fields)


def test_a_resend_carries_the_same_message_id(backend: Backend) -> None:
    backend.mailer.send(message())
    backend.mailer.send(message())
    expected = ("<0123abcd@acme.example>", "customer@example.org", "Invoice 1042 from Acme: $73.40")
    assert backend.delivered() == [expected, expected]


def test_a_refused_recipient_is_permanent_and_nothing_is_sent(backend: Backend) -> None:
    backend.refuse("customer@example.org")
    with pytest.raises(PermanentError) as caught:
        backend.mailer.send(message())
    assert not isinstance(caught.value, TransientError)
    assert backend.delivered() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"to": "a@b.example, c@d.example"},
        {"to": "not-an-address"},
        {"subject": "Hi\r\nBcc: victim@example.org"},
        {"headers": (("X-Tag", "a\nb"),)},
        {"headers": (("Message-ID", "<other@x>"),)},
    ],
)
def test_a_malformed_message_is_permanent_and_nothing_is_sent(
    backend: Backend, changes: dict[str, Any]
) -> None:
    with pytest.raises(PermanentError):
        backend.mailer.send(message(**changes))
    assert backend.delivered() == []
