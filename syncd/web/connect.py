"""``GET /connect/quickbooks/callback``: where Intuit sends the owner back during ``syncd connect
quickbooks``, so a running daemon finishes the connection itself (the command waits for it)."""

from __future__ import annotations

import html
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.errors import PermanentError, SyncdError

CALLBACK_PATH = "/connect/quickbooks/callback"
# Sent on every answer, so the command can tell a syncd is behind the redirect URI.
PROBE_HEADER = "X-Syncd-Connect"

# (state, code, realm id, error) → the realm connected; PermanentError for the person's eyes.
Finish = Callable[..., str]


def _page(message: str, status: int) -> Response:
    body = f"<!doctype html><title>syncd</title><p>{html.escape(message)}</p>"
    return HTMLResponse(body, status_code=status, headers={PROBE_HEADER: "1", "Cache-Control": "no-store"})


def connect_routes(finish: Finish) -> list[BaseRoute]:
    async def callback(request: Request) -> Response:
        query = request.query_params
        if not query:
            # A bare GET is ``syncd connect quickbooks`` asking whether a syncd is here.
            return _page("syncd receives QuickBooks connections here.", 400)
        try:
            realm = await run_in_threadpool(
                finish,
                state=query.get("state", ""),
                code=query.get("code", ""),
                realm_id=query.get("realmId", ""),
                error=query.get("error", ""),
            )
        except PermanentError as exc:
            return _page(f"QuickBooks is not connected: {exc}.", 400)
        except SyncdError as exc:
            return _page(f"QuickBooks is not connected ({exc}); run `syncd connect quickbooks` again.", 503)
        return _page(f"QuickBooks company {realm} is connected. You can close this tab.", 200)

    return [Route(CALLBACK_PATH, callback, methods=["GET"], name="connect_quickbooks")]
