"""A real SMTP server that keeps what it receives: the demo's mailbox and the mailer's tests."""

from __future__ import annotations

import email
import email.policy
import hmac
import itertools
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.utils import parsedate_to_datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from connectors.lifecycle import Served


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message as the sink saw it: envelope, the main headers, both bodies and the raw bytes."""

    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    from_header: str
    to: str
    subject: str
    date: datetime | None
    message_id: str
    reply_to: str | None
    text: str | None
    html: str | None
    raw: bytes
    received_at: datetime
    tls: bool
    auth: tuple[str, str] | None  # (mechanism, login) when the client authenticated

    def header(self, name: str) -> str | None:
        """Any header of the raw message (first occurrence)."""
        value = _parse(self.raw)[name]
        return None if value is None else str(value)


def _parse(raw: bytes) -> MimeMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def _body(msg: MimeMessage, subtype: str) -> str | None:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content.replace("\r\n", "\n") if isinstance(content, str) else None


class Mailbox:
    """Thread-safe store of received messages; keeps duplicates (it is a sink, not a receiver
    that deduplicates), so tests can count resends by Message-ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._ids = itertools.count(1)
        self._arrived = threading.Condition(self._lock)

    def add(
        self,
        raw: bytes,
        *,
        mail_from: str,
        rcpt_tos: Iterable[str],
        tls: bool = False,
        auth: tuple[str, str] | None = None,
    ) -> ReceivedMessage:
        msg = _parse(raw)
        try:
            sent = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        except (TypeError, ValueError):
            sent = None
        with self._lock:
            received = ReceivedMessage(
                id=str(next(self._ids)),
                mail_from=mail_from,
                rcpt_tos=tuple(rcpt_tos),
                from_header=str(msg["From"] or ""),
                to=str(msg["To"] or ""),
                # A long Subject is folded right after "Subject:"; mail clients drop that space.
                subject=str(msg["Subject"] or "").strip(),
                date=sent,
                message_id=str(msg["Message-ID"] or "").strip(),
                reply_to=str(msg["Reply-To"]) if msg["Reply-To"] else None,
                text=_body(msg, "plain"),
                html=_body(msg, "html"),
                raw=raw,
                received_at=datetime.now(UTC),
                tls=tls,
                auth=auth,
            )
            self._messages.append(received)
            self._arrived.notify_all()
        return received

    def all(self) -> list[ReceivedMessage]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._messages))

    def get(self, message_id: str) -> ReceivedMessage | None:
        """By the mailbox's own id (the one in /mailbox/{id})."""
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def by_message_id(self, message_id: str) -> list[ReceivedMessage]:
        """Every copy carrying this Message-ID header, oldest first."""
        with self._lock:
            return [m for m in self._messages if m.message_id == message_id]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` messages arrived (for senders on other threads)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._messages) >= count, timeout)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)


class _Handler:
    """aiosmtpd hooks: refuse configured recipients, check logins, store DATA."""

    def __init__(self, mailbox: Mailbox, credentials: Mapping[str, str] | None) -> None:
        self.mailbox = mailbox
        self.auth_required = credentials is not None
        self.credentials = dict(credentials or {})
        self.rejections: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        # Enforced here rather than with aiosmtpd's auth_required, which warns when TLS is optional.
        if self.auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            reply = self.rejections.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        auth = session.auth_data if isinstance(session.auth_data, tuple) else None
        self.mailbox.add(
            bytes(raw),
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            tls=session.ssl is not None,
            auth=auth,
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = self.credentials.get(login)
        ok = expected is not None and hmac.compare_digest(auth_data.password, expected.encode())
        return AuthResult(success=ok, handled=False, auth_data=(mechanism, login) if ok else None)


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket bound up front, so port 0 works and ``port`` is real."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpSink(Served):
    """``with SmtpSink() as sink:`` serves SMTP on ``sink.port`` and stores into ``sink.mailbox``.

    ``tls_context`` offers STARTTLS, ``implicit_tls_context`` speaks TLS from the first byte
    (port 465 style); ``auth`` (login → password) requires AUTH, by default only
    after STARTTLS, with the mechanisms in ``auth_mechanisms``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        mailbox: Mailbox | None = None,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls_context: ssl.SSLContext | None = None,
        auth: Mapping[str, str] | None = None,
        auth_require_tls: bool = True,
        auth_mechanisms: Iterable[str] = ("LOGIN", "PLAIN"),
        hostname: str = "sink.syncd.test",
    ) -> None:
        self.host = host
        self.mailbox = mailbox if mailbox is not None else Mailbox()
        self._handler = _Handler(self.mailbox, auth)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        kwargs: dict[str, Any] = {"server_hostname": hostname, "ready_timeout": 5.0}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        if implicit_tls_context is not None:
            kwargs["ssl_context"] = implicit_tls_context
        if auth is not None:
            allowed = {m.upper() for m in auth_mechanisms}
            kwargs.update(
                authenticator=self._handler.authenticate,
                auth_require_tls=auth_require_tls,
                auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in allowed],
            )
        self._controller = _BoundController(self._handler, self._sock, **kwargs)
        self._started = False

    def reject_recipient(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer RCPT TO for ``address`` with ``reply`` (e.g. ``451 4.3.0 Try again later``)."""
        with self._handler.lock:
            self._handler.rejections[address.lower()] = reply

    def accept_all(self) -> None:
        with self._handler.lock:
            self._handler.rejections.clear()

    def start(self) -> SmtpSink:
        try:
            self._controller.start()
        except BaseException:
            self._controller.stop(no_assert=True)
            self._release()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._controller.stop()
            self._started = False
        self._release()

    def _release(self) -> None:
        # The controller's loop exists from construction; close it even if it never ran.
        loop = self._controller.loop
        if not loop.is_running() and not loop.is_closed():
            loop.close()
        self._sock.close()
