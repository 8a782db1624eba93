"""The OAuth authorization-code flow behind ``syncd connect quickbooks``: URL, state check, code exchange."""

from __future__ import annotations

import errno
import hmac
import secrets
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from connectors.quickbooks.oauth import SCOPES, make_auth_client, utcnow
from connectors.quickbooks.oauth import exchange_code as _exchange
from syncd.errors import ConfigError, PermanentError, TransientError
from syncd.ports.quickbooks import QboSettings, QboTokens, TokenStore


class ListenerUnavailable(ConfigError):
    """The redirect cannot be caught here: the redirect URI is not a local http address, or
    something else holds its port (a running syncd may receive it instead)."""


def authorization_url(settings: QboSettings, state: str) -> str:
    """Where the owner signs in to Intuit and picks the company to connect."""
    client = make_auth_client(settings)
    try:
        return str(client.get_authorization_url(SCOPES, state_token=state))
    finally:
        client.close()


def exchange_code(settings: QboSettings, code: str, realm_id: str) -> QboTokens:
    """Trade the code from the redirect for the company's first token pair."""
    client = make_auth_client(settings)
    try:
        return _exchange(client, code, realm_id, utcnow())
    finally:
        client.close()


def parse_redirect(url: str, expected_state: str) -> tuple[str, str]:
    """(code, realm_id) from the redirected URL; a wrong or missing state is refused (CSRF)."""
    query = parse_qs(urlsplit(url.strip()).query)

    def one(name: str) -> str:
        values = query.get(name)
        return values[0] if values else ""

    state = one("state")
    if not state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise PermanentError("the redirect's state does not match this connect attempt; start again")
    if one("error"):
        raise PermanentError(f"QuickBooks refused the connection: {one('error')}")
    code, realm_id = one("code"), one("realmId")
    if not code or not realm_id:
        raise PermanentError("the redirect carries no code or realmId")
    return code, realm_id


class _Listener(HTTPServer):
    redirected: str | None = None
    path_wanted: str = "/"


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path != self.server.path_wanted:
            self.send_error(404)
            return
        self.server.redirected = self.path
        body = b"<!doctype html><title>syncd</title><p>QuickBooks is connected. You can close this tab.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The redirect URL carries the authorization code: never log it.
        return


def _listen_for_redirect(redirect_uri: str, show: Callable[[], None], timeout: float) -> str:
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ListenerUnavailable(
            "quickbooks.redirect_uri", "a local listener needs an http://localhost redirect URI; use --paste"
        )
    try:
        server = _Listener((parts.hostname, parts.port or 80), _Handler)
    except OSError as exc:
        where = f"{parts.hostname}:{parts.port or 80}"
        if exc.errno == errno.EADDRINUSE:
            raise ListenerUnavailable(
                "quickbooks.redirect_uri", f"{where} is in use by another program: free it or use --paste"
            ) from None
        raise ListenerUnavailable(
            "quickbooks.redirect_uri", f"cannot listen on {where} ({exc.strerror}): use --paste"
        ) from None
    server.path_wanted = parts.path or "/"
    try:
        show()
        deadline = time.monotonic() + timeout
        while server.redirected is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransientError("no redirect from QuickBooks arrived in time")
            server.timeout = min(remaining, 1.0)
            server.handle_request()
        return f"{redirect_uri.split('?')[0]}?{urlsplit(server.redirected).query}"
    finally:
        server.server_close()


def run_connect_flow(
    settings: QboSettings,
    token_store: TokenStore,
    *,
    open_listener: bool,
    input_fn: Callable[[str], str],
    output_fn: Callable[[str], None],
    timeout: float = 600.0,
    state: str | None = None,
    handoff: Callable[[Callable[[], None]], str] | None = None,
) -> str:
    """Connect one company interactively and store its tokens; returns its realm id.

    With ``open_listener`` the redirect is caught on the redirect URI's local port; when that
    cannot be done here, ``handoff(show)`` lets whoever serves the redirect URI (a running
    syncd) finish the connection and returns the realm. Otherwise the owner pastes the URL the
    browser was sent to.
    """
    state = state or secrets.token_urlsafe(24)
    url = authorization_url(settings, state)

    def show() -> None:
        output_fn(f"Open this address in a browser and choose the company to connect:\n{url}")

    if open_listener:
        try:
            redirected = _listen_for_redirect(settings.redirect_uri, show, timeout)
        except ListenerUnavailable:
            if handoff is None:
                raise
            realm_id = handoff(show)
            output_fn(f"Connected QuickBooks company {realm_id}.")
            return realm_id
    else:
        show()
        redirected = input_fn("Paste the full address the browser was sent to: ")
    code, realm_id = parse_redirect(redirected, state)
    token_store.save(realm_id, exchange_code(settings, code, realm_id))
    output_fn(f"Connected QuickBooks company {realm_id}.")
    return realm_id
