"""``syncd connect quickbooks`` against a running daemon: the daemon receives the OAuth redirect at
``/connect/quickbooks/callback`` and stores the tokens (``syncd.stages.connect``); the command
waits for it over the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from syncd.context import Context
from syncd.errors import ConfigError, PermanentError, TransientError
from syncd.store import connects
from syncd.web.connect import CALLBACK_PATH, PROBE_HEADER


def _daemon_answers(uri: str) -> bool:
    try:
        return requests.get(uri, timeout=5, allow_redirects=False).headers.get(PROBE_HEADER) == "1"
    except requests.RequestException:
        return False


def wait_for_daemon(
    ctx: Context,
    state: str,
    show: Callable[[], None],
    *,
    say: Callable[[str], None],
    timeout: float,
    poll: float = 0.5,
) -> str:
    """Command side, when the redirect URI cannot be caught here: hand over to the syncd serving
    it (the attempt for ``state`` was opened before). Returns the realm the daemon connected."""
    uri = ctx.settings.qbo.redirect_uri
    parts = urlsplit(uri)
    if parts.path != CALLBACK_PATH or not _daemon_answers(uri):
        if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"):
            where = f"{parts.hostname}:{parts.port or 80}"
            raise ConfigError(
                "quickbooks.redirect_uri",
                f"{where} is in use by another program, not syncd: free that port, register a "
                "redirect URI on a free one, or use --paste",
            )
        raise ConfigError(
            "quickbooks.redirect_uri",
            f"no syncd answers at {uri} to receive the redirect: start `syncd run`, or use --paste",
        )
    show()
    say(f"Waiting for the running syncd to receive the redirect at {uri} …")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = connects.outcome(ctx.db, state)
        if result.finished:
            if result.realm_id is None:
                raise PermanentError(result.error or "the connection was not completed")
            return result.realm_id
        time.sleep(poll)
    raise TransientError("no redirect from QuickBooks arrived in time")
