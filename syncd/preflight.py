"""Startup checks of ``syncd run``, before the port is bound: each failure is one line naming its
setting, exit 78 when the setting is wrong and 75 when what it names may come back by itself."""

from __future__ import annotations

import errno
import socket

import requests
import structlog

from syncd.bootstrap import check_stripe_key
from syncd.config import Settings
from syncd.errors import AuthError, ConfigError, TransientError, UnavailableError
from syncd.store.engine import Database

log = structlog.get_logger(__name__)


def check_database(settings: Settings) -> None:
    """Reach the database once (ConfigError for a wrong URL, UnavailableError for a server down)."""
    db = Database(settings.database_url)
    try:
        db.ping()
    finally:
        db.dispose()


def check_stripe(settings: Settings) -> bool:
    """Try the key against the API once; True when Stripe accepted it. A refused key stops the
    start; Stripe being unreachable does not (payments wait for it, the books and emails need not)."""
    if not settings.stripe.api_key:
        raise ConfigError("stripe.api_key", "is required to take payments")
    try:
        check_stripe_key(settings)
    except AuthError as exc:
        raise ConfigError("stripe.api_key", f"Stripe refused this key ({exc})") from None
    except TransientError as exc:
        log.warning("stripe_unreachable_at_start", error=str(exc))
        return False
    return True


def listen(host: str, port: int) -> socket.socket:
    """Bind the web port. Held by a running syncd: exit 75 (it may be on its way out); held by
    anything else, or not ours to take: a configuration clash naming ``web.port`` (exit 78)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle off on accepted connections only when the socket says IPPROTO_TCP
    # (proto 0 does not count); with Nagle on, a keep-alive response waits out a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            if _answers_as_syncd(host, port):
                raise UnavailableError(
                    "web.port", f"{host}:{port} is in use by another syncd (stop it first, or wait)"
                ) from None
            raise ConfigError(
                "web.port", f"{host}:{port} is in use by another program: stop it or choose another web.port"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                "web.port", f"not allowed to listen on {host}:{port}: use a port above 1023"
            ) from None
        raise ConfigError("web.host", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Listen now, not when the web server starts: a bound socket that is not listening yet lets
    # another SO_REUSEADDR socket (a `connect quickbooks` listener) take the same port meanwhile.
    # Connections made before the server is up wait in the backlog.
    sock.listen(2048)
    return sock


def _answers_as_syncd(host: str, port: int) -> bool:
    # A wildcard address is asked on loopback.
    target = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host) or (f"[{host}]" if ":" in host else host)  # noqa: S104
    try:
        response = requests.get(f"http://{target}:{port}/healthz", timeout=2)
        body = response.json()
    except (requests.RequestException, ValueError):
        return False
    return isinstance(body, dict) and "database" in body and "status" in body
