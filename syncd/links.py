"""Portal links: an HMAC of (company, invoice) — stable, unguessable, only its digest stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# A portal link (``/i/``) or card-request link (``/c/``) inside text: QBO's memo carries the one
# syncd wrote back, Stripe's events the Checkout return URLs (JSON may escape the slashes).
IN_TEXT = re.compile(r"(/|\\/)([ic])\1[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
IN_BYTES = re.compile(IN_TEXT.pattern.encode())


def scrub(text: str | None) -> str | None:
    """``text`` with every portal link token taken out, for anything syncd stores."""
    return IN_TEXT.sub(r"\1\2\1[link]", text) if text else text


def scrub_bytes(body: bytes) -> bytes:
    """``body`` (a webhook's JSON) with every link token taken out; the JSON stays valid."""
    return IN_BYTES.sub(rb"\1\2\1[link]", body)


class Links:
    """192-bit tokens derived with a key only this installation has.

    The token is stable for an invoice (reminders carry the same link) and is never stored:
    the store keeps its SHA-256 digest, so a leaked database does not leak payable links.
    """

    def __init__(self, key: bytes, public_url: str) -> None:
        self._key = key
        self._public_url = public_url.rstrip("/")

    def token(self, company_id: str, invoice_id: str) -> str:
        mac = hmac.new(self._key, f"{company_id}\x00{invoice_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode()

    @staticmethod
    def digest(token: str) -> str | None:
        """The lookup key for a token, or None for anything that cannot be a token."""
        if not TOKEN.match(token):
            return None
        return hashlib.sha256(token.encode()).hexdigest()

    def url(self, company_id: str, invoice_id: str) -> str:
        return f"{self._public_url}/i/{self.token(company_id, invoice_id)}"
