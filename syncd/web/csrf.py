"""Per-form CSRF tokens: an HMAC of a random cookie, the form's action and the issue time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from syncd.errors import ConfigError

FIELD = "csrf_token"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
_ISSUED = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token for one form; ``new_cookie`` is set when the browser had no valid cookie yet."""

    token: str
    new_cookie: str | None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Csrf:
    """Double-submit with HMAC: a form token only verifies together with the cookie it was
    minted for, for the same action, within ``max_age_seconds``; the secret never leaves here."""

    def __init__(
        self,
        secret: bytes,
        *,
        max_age_seconds: int = 12 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ConfigError("web.csrf_secret", "must be at least 16 random bytes")
        self._secret = secret
        self._max_age = max_age_seconds
        self._clock = clock

    @staticmethod
    def cookie_name(request: Request) -> str:
        # __Host- pins the cookie to this exact origin over https (no Domain, Path=/, Secure).
        return "__Host-syncd_csrf" if request.url.scheme == "https" else "syncd_csrf"

    def _cookie(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie_name(request))
        if value is not None and _COOKIE_VALUE.fullmatch(value):
            return value
        return None

    def _mac(self, cookie: str, action: str, issued: int) -> str:
        msg = f"{cookie}|{action}|{issued}".encode()
        return _b64(hmac.new(self._secret, msg, hashlib.sha256).digest())

    def issue(self, request: Request, action: str) -> IssuedToken:
        """A token for a form posting to ``action`` (any stable string naming the form)."""
        cookie = self._cookie(request)
        new_cookie = None
        if cookie is None:
            cookie = new_cookie = _b64(secrets.token_bytes(32))
        issued = int(self._clock())
        return IssuedToken(f"{issued}.{self._mac(cookie, action, issued)}", new_cookie)

    def apply(self, response: Response, request: Request, issued: IssuedToken) -> None:
        """Set the cookie on the response that carries the form, when it is new."""
        if issued.new_cookie is None:
            return
        response.set_cookie(
            self.cookie_name(request),
            issued.new_cookie,
            max_age=self._max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def verify(self, request: Request, action: str, submitted: object) -> bool:
        """True only for a well-formed, fresh token minted for this cookie and action."""
        cookie = self._cookie(request)
        if cookie is None or not isinstance(submitted, str) or len(submitted) > 200:
            return False
        issued_text, _, mac = submitted.partition(".")
        if not _ISSUED.fullmatch(issued_text) or not mac:
            return False
        issued = int(issued_text)
        age = self._clock() - issued
        if age > self._max_age or age < -300:
            return False
        return hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(cookie, action, issued).encode())
