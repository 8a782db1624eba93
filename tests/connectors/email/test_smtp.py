"""SmtpMailer against the real SmtpSink over TCP: plain, STARTTLS, implicit TLS, AUTH, errors; and
the Mailer Protocol's contract, one suite over SmtpMailer and the in-memory fake (``fakes.mail``)."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes.mail import FakeMailer

from connectors.email.sink import SmtpSink
from connectors.email.smtp import SmtpMailer, to_mime
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.ports.address import recipient
from syncd.ports.email import EmailMessage, Mailer, SmtpSettings

PASSWORD = "correct horse battery staple"


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


def settings(sink: SmtpSink, **changes: Any) -> SmtpSettings:
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": sink.port,
        "security": "none",
        "timeout_seconds": 5,
    }
    fields.update(changes)
    return SmtpSettings(**fields)


def test_plain_send_delivers_multipart_with_headers() -> None:
    with SmtpSink() as sink:
        SmtpMailer(settings(sink)).send(message())
        [got] = sink.mailbox.all()
    assert got.message_id == "<0123abcd@acme.example>"
    assert got.to == "customer@example.org"
    assert got.from_header == "Acme Billing <billing@acme.example>"
    assert got.reply_to == "office@acme.example"
    assert got.subject == "Invoice 1042 from Acme: $73.40"
    assert got.date is not None and got.date.utcoffset() is not None
    assert got.text == "Pay here: https://pay.example.com/i/tok\n"
    assert got.html is not None and 'href="https://pay.example.com/i/tok"' in got.html
    assert got.header(
        "Content-Type",
    ).startswith("multipart/alternative")  # type: ignore[union-attr]
    assert got.mail_from == "billing@acme.example"
    assert got.rcpt_tos == ("customer@example.org",)
    assert not got.tls and got.auth is None


def test_non_ascii_content_survives() -> None:
    with SmtpSink() as sink:
        SmtpMailer(settings(sink)).send(message(subject="Facture n° 12 \u2013 1 234,50 €", text="Grüße ✓\n"))
        [got] = sink.mailbox.all()
    assert got.subject == "Facture n° 12 \u2013 1 234,50 €"
    assert got.text == "Grüße ✓\n"


def test_starttls_with_self_signed_certificate(tls: Any) -> None:
    with SmtpSink(tls_context=tls.server, require_starttls=True) as sink:
        SmtpMailer(settings(sink, security="starttls"), ssl_context=tls.client).send(message())
        [got] = sink.mailbox.all()
    assert got.tls


def test_starttls_refuses_an_untrusted_certificate(tls: Any) -> None:
    with SmtpSink(tls_context=tls.server) as sink:
        with pytest.raises(PermanentError, match="certificate"):
            SmtpMailer(settings(sink, security="starttls")).send(message())
        assert len(sink.mailbox) == 0


def test_starttls_never_falls_back_to_plain() -> None:
    with SmtpSink() as sink:  # offers no STARTTLS
        with pytest.raises(PermanentError):
            SmtpMailer(settings(sink, security="starttls")).send(message())
        assert len(sink.mailbox) == 0


def test_implicit_tls(tls: Any) -> None:
    with SmtpSink(implicit_tls_context=tls.server) as sink:
        SmtpMailer(settings(sink, security="tls"), ssl_context=tls.client).send(message())
        assert len(sink.mailbox) == 1


def test_auth_login_over_starttls(tls: Any) -> None:
    with SmtpSink(tls_context=tls.server, auth={"billing": PASSWORD}, auth_mechanisms=["LOGIN"]) as sink:
        mailer = SmtpMailer(
            settings(sink, security="starttls", username="billing", password=PASSWORD), ssl_context=tls.client
        )
        mailer.send(message())
        [got] = sink.mailbox.all()
    assert got.auth == ("LOGIN", "billing")
    assert got.tls


def test_auth_plain_without_tls_when_the_server_allows_it() -> None:
    with SmtpSink(auth={"billing": PASSWORD}, auth_require_tls=False) as sink:
        SmtpMailer(settings(sink, username="billing", password=PASSWORD)).send(message())
        [got] = sink.mailbox.all()
    assert got.auth is not None and got.auth[1] == "billing"


def test_wrong_password_is_auth_error_and_never_logged(tls: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with SmtpSink(tls_context=tls.server, auth={"billing": PASSWORD}) as sink:
        mailer = SmtpMailer(
            settings(sink, security="starttls", username="billing", password="hunter2-wrong"),
            ssl_context=tls.client,
        )
        with pytest.raises(AuthError) as err:
            mailer.send(message())
        assert len(sink.mailbox) == 0
    assert "hunter2" not in str(err.value)
    assert "hunter2" not in repr(mailer)
    assert "hunter2" not in caplog.text


def test_missing_credentials_when_server_requires_auth(tls: Any) -> None:
    with SmtpSink(tls_context=tls.server, auth={"billing": PASSWORD}) as sink, pytest.raises(AuthError):
        SmtpMailer(settings(sink, security="starttls"), ssl_context=tls.client).send(message())


def test_recipient_refused_550_is_permanent() -> None:
    with SmtpSink() as sink:
        sink.reject_recipient("customer@example.org", "550 5.1.1 No such user")
        with pytest.raises(PermanentError, match="550") as err:
            SmtpMailer(settings(sink)).send(message())
        assert not isinstance(err.value, TransientError)
        assert len(sink.mailbox) == 0


def test_recipient_deferred_451_is_transient() -> None:
    with SmtpSink() as sink:
        sink.reject_recipient("customer@example.org", "451 4.3.0 Try again later")
        with pytest.raises(TransientError, match="451"):
            SmtpMailer(settings(sink)).send(message())
        sink.accept_all()
        SmtpMailer(settings(sink)).send(message())
        assert len(sink.mailbox) == 1


def test_connection_refused_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError):
        SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=2)).send(
            message()
        )


def test_server_that_never_answers_times_out_transiently() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=0.3))
        with pytest.raises(TransientError):
            mailer.send(message())


def test_message_id_is_preserved_and_resends_keep_it() -> None:
    with SmtpSink() as sink:
        mailer = SmtpMailer(settings(sink))
        mailer.send(message())
        mailer.send(message())
        copies = sink.mailbox.by_message_id("<0123abcd@acme.example>")
    assert len(copies) == 2
    assert {c.message_id for c in copies} == {"<0123abcd@acme.example>"}


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hi\r\nBcc: victim@example.org"},
        {"to": "a@example.org\r\nBcc: victim@example.org"},
        {"headers": (("X-Tag", "a\nb"),)},
        {"headers": (("Message-ID", "<other@x>"),)},
    ],
)
def test_header_injection_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(PermanentError):
        to_mime(message(**changes))


def test_extra_headers_are_sent() -> None:
    with SmtpSink() as sink:
        SmtpMailer(settings(sink)).send(message(headers=(("X-Syncd-Effect", "email:receipt:42"),)))
        [got] = sink.mailbox.all()
    assert got.header("X-Syncd-Effect") == "email:receipt:42"


def test_unknown_security_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        SmtpMailer(SmtpSettings(host="x", port=25, security="ssl"))


def test_default_context_verifies_hostnames() -> None:
    mailer = SmtpMailer(SmtpSettings(host="x", port=25))
    assert mailer._ssl_context.verify_mode is ssl.CERT_REQUIRED
    assert mailer._ssl_context.check_hostname


def test_settings_repr_hides_the_password() -> None:
    shown = repr(SmtpSettings(host="smtp.example.com", port=587, username="billing", password=PASSWORD))
    assert PASSWORD not in shown and "billing" in shown


@pytest.mark.parametrize(
    "to",
    [
        "a@b.example\r\nBcc: x@evil.example",
        "a@b.example\nBcc: x@evil.example",
        "a@b.example, c@d.example",
        "Name <a@b.example>, c@d.example",
        "Name\r\nBcc: x@evil.example <a@b.example>",
        "not-an-address",
        "a@b.example\x00",
        "",
    ],
)
def test_invalid_recipient_is_permanent_and_nothing_is_sent(to: str) -> None:
    with SmtpSink() as sink:
        with pytest.raises(PermanentError, match="invalid recipient address") as caught:
            SmtpMailer(settings(sink)).send(message(to=to))
        assert sink.mailbox.all() == []
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)


def test_plain_addresses_pass() -> None:
    for good in (
        "a@b.example",
        "first.last+tag@sub.example.co.uk",
        " o'neil@x.example ",
        "Ops <ops@x.example>",
    ):
        assert recipient(good) == good.strip()


# -- the Mailer contract: the connector and the fake ---------------------------------------------


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
