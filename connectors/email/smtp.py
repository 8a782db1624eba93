"""Send one EmailMessage over SMTP with smtplib, mapping every failure onto syncd's error tree."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from syncd.errors import AuthError, Credential, PermanentError, SyncdError, TransientError
from syncd.ports import address
from syncd.ports.email import RESERVED_HEADERS, EmailMessage, SmtpSettings

log = logging.getLogger(__name__)

# 530 auth required, 534 mechanism too weak, 535 credentials rejected: credentials, not content.
_AUTH_CODES = frozenset({530, 534, 535})
_SECURITY = ("starttls", "tls", "none")


def to_mime(message: EmailMessage, *, now: datetime | None = None) -> MimeMessage:
    """multipart/alternative (text first, html preferred) with the message's own Message-ID."""
    mime = MimeMessage(policy=SMTP_POLICY)
    try:
        mime["From"] = message.from_addr
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(now or datetime.now(UTC))
        mime["Message-ID"] = message.message_id
        if message.reply_to:
            mime["Reply-To"] = message.reply_to
        for name, value in message.headers:
            if name.lower() in RESERVED_HEADERS:
                raise PermanentError(f"header {name!r} is set by the mailer")
            mime[name] = value
        mime.set_content(message.text, subtype="plain", charset="utf-8")
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    except (ValueError, TypeError) as exc:
        # The email package refuses CR/LF in headers and malformed addresses here.
        raise PermanentError(f"cannot build message {message.message_id}: {exc}") from exc
    return mime


def _by_code(code: int, what: str) -> SyncdError:
    if code in _AUTH_CODES:
        return AuthError(
            f"SMTP server refused the credentials ({code}) while {what}", credential=Credential.SMTP
        )
    if 400 <= code < 500:
        return TransientError(f"SMTP {code} while {what}")
    return PermanentError(f"SMTP {code} while {what}")


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]


class SmtpMailer:
    """A Mailer over smtplib: one connection per message (transactional volumes are small).

    ``ssl_context`` defaults to the system trust store with hostname checking; tests pass one
    trusting their self-signed certificate.
    """

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        if settings.security not in _SECURITY:
            raise ValueError(f"SmtpSettings.security must be one of {_SECURITY}, not {settings.security!r}")
        self._settings = settings
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        s = self._settings
        return f"SmtpMailer({s.host}:{s.port}, security={s.security}, user={s.username!r})"

    def send(self, message: EmailMessage) -> None:
        recipient = address.recipient(message.to)
        mime = to_mime(message)
        try:
            with self._connect() as smtp:
                self._login(smtp)
                refused = smtp.send_message(mime, from_addr=message.from_addr, to_addrs=[recipient])
        except SyncdError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(
                f"SMTP login refused ({exc.smtp_code}): {_reply_text(exc.smtp_error)}",
                credential=Credential.SMTP,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            err = _by_code(code, f"sending {message.message_id}: recipient refused: {_reply_text(reply)}")
            raise err from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(f"SMTP server does not support what syncd needs: {exc}") from None
        except smtplib.SMTPConnectError as exc:
            raise TransientError(
                f"SMTP greeting refused ({exc.smtp_code}): {_reply_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(
                exc.smtp_code, f"sending {message.message_id}: {_reply_text(exc.smtp_error)}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentError(f"SMTP server certificate rejected: {exc.verify_message}") from None
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnects, timeouts, refused connections, TLS handshakes cut short.
            raise TransientError(
                f"SMTP connection to {self._settings.host} failed: {type(exc).__name__}: {exc}"
            ) from None
        if refused:
            raise PermanentError(f"SMTP server refused {sorted(refused)} for {message.message_id}")
        log.info("email sent", extra={"message_id": message.message_id})

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=self._ssl_context)
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                # starttls() raises SMTPNotSupportedError rather than ever falling back to plain.
                smtp.starttls(context=self._ssl_context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        s = self._settings
        if not s.username:
            return
        if s.security == "none":
            log.warning("logging in to SMTP %s without TLS", s.host)
        smtp.login(s.username, s.password or "")
