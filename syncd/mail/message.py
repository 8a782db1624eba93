"""Turn a rendered email into the EmailMessage a Mailer sends, with a Message-ID fixed by its effect."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from syncd.mail.templates import RenderedEmail, single_line
from syncd.ports.address import recipient
from syncd.ports.email import EmailMessage

_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_BREAKS = re.compile(r"[\r\n]")


def message_id_for(effect_key: str, domain: str) -> str:
    """``<hex@domain>``, the same for the same effect key, so a resend after a crash carries the
    Message-ID of the first attempt and receivers drop the duplicate."""
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain for a Message-ID: {domain!r}")
    digest = hashlib.sha256(effect_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain.lower()}>"


def domain_of(address: str) -> str:
    """The domain part of ``Name <user@domain>`` or ``user@domain``."""
    addr = address.rsplit("<", 1)[-1].rstrip("> ").strip()
    _, at, domain = addr.rpartition("@")
    if not at or not _DOMAIN.fullmatch(domain):
        raise ValueError(f"no domain in address {address!r}")
    return domain


def _header_safe(name: str, value: str) -> str:
    if _BREAKS.search(value):
        raise ValueError(f"{name} must be a single line")
    return value.strip()


def build_message(
    *,
    rendered: RenderedEmail,
    to: str,
    from_addr: str,
    effect_key: str,
    reply_to: str | None = None,
    message_id_domain: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> EmailMessage:
    """The message for one email effect; the Message-ID domain defaults to the sender's."""
    domain = message_id_domain or domain_of(from_addr)
    extra = tuple((_header_safe("header name", n), _header_safe(n, v)) for n, v in headers)
    return EmailMessage(
        to=recipient(to),
        subject=single_line(rendered.subject),
        text=rendered.text,
        html=rendered.html,
        message_id=message_id_for(effect_key, domain),
        from_addr=_header_safe("From", from_addr),
        reply_to=_header_safe("Reply-To", reply_to) if reply_to else None,
        headers=extra,
    )
