"""ASGI middleware adding the security headers every syncd web response carries."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncd.errors import ConfigError

DEFAULT_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, refusing anything that could smuggle CSP syntax."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("web.checkout_origin", f"not an http(s) origin: {url!r}")
    if any(c in parts.netloc for c in " ;,'\"\r\n"):
        raise ConfigError("web.checkout_origin", f"not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(checkout_origin: str) -> str:
    # form-action also governs the 303 after POST /pay, so the checkout origin must be listed
    # (the Stripe simulator is plain http in the demo, which "https:" would not cover).
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' https: data:",
            "style-src 'self'",
            "script-src 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' https: {origin_of(checkout_origin)}",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, frame denial, no-referrer (portal URLs are bearer tokens), no-store and,
    over https, HSTS. A header the route already set wins, so a route can loosen one on purpose
    (static assets allow caching; the mailbox's HTML part sets its own CSP).

    ``public_https``: the public address is https, so every request came through a TLS proxy,
    whatever the proxy told (or did not tell) uvicorn; the app then sees the https scheme, which
    gives HSTS and ``Secure`` cookies behind any proxy."""

    def __init__(
        self, app: ASGIApp, checkout_origin: str = DEFAULT_CHECKOUT_ORIGIN, public_https: bool = False
    ) -> None:
        self.app = app
        self._csp = content_security_policy(checkout_origin)
        self._public_https = public_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._public_https and scope.get("scheme") != "https":
            scope = {**scope, "scheme": "https"}
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(message, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add_headers(self, message: MutableMapping[str, Any], https: bool) -> None:
        headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
        present = {name.lower() for name, _ in headers}
        wanted = [
            (b"content-security-policy", self._csp),
            (b"x-content-type-options", "nosniff"),
            (b"x-frame-options", "DENY"),
            (b"referrer-policy", "no-referrer"),
            (b"cache-control", "no-store"),
        ]
        if https:
            wanted.append((b"strict-transport-security", "max-age=31536000"))
        for name, value in wanted:
            if name not in present:
                headers.append((name, value.encode("latin-1")))
        message["headers"] = headers
