"""The demo mailbox pages: what the SMTP sink received, readable, with clickable links."""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.ports.mailbox import Mailbox
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.templating import Templating, asset_routes

_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)

# The HTML part is someone else's markup: no scripts, no forms, nothing fetched but images,
# framable only by the mailbox page itself.
HTML_PART_CSP = (
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def linkify(text: str) -> Markup:
    """Escape ``text`` and turn each http(s) URL in it into a link; nothing else becomes markup."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        out.append(str(escape(text[pos : match.start()])))
        out.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>')
        pos = match.start() + len(url)
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))  # noqa: S704 - every piece above was escaped


def _html_document(html: str) -> str:
    # Links in the sandboxed frame must open the portal at the top (it refuses to be framed).
    base = '<base target="_top">'
    match = _HEAD.search(html)
    if match:
        return html[: match.end()] + base + html[match.end() :]
    return base + html


def mailbox_routes(mailbox: Mailbox, templates: Templating) -> list[BaseRoute]:
    """``/mailbox``, ``/mailbox/{id}`` and ``/mailbox/{id}/html`` for the demo's SMTP sink."""

    def not_found(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return templates.response(
            "mailbox/not_found.html", {"root": root, "title": "No such message"}, status_code=404
        )

    async def index(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return templates.response("mailbox/list.html", {"root": root, "messages": mailbox.all()})

    async def show(request: Request) -> Response:
        message = mailbox.get(request.path_params["id"])
        if message is None:
            return not_found(request)
        context = {
            "root": request.scope.get("root_path", ""),
            "m": message,
            "text_html": linkify(message.text) if message.text is not None else None,
        }
        return templates.response("mailbox/message.html", context)

    async def html_part(request: Request) -> Response:
        message = mailbox.get(request.path_params["id"])
        if message is None or message.html is None:
            return not_found(request)
        headers = {"Content-Security-Policy": HTML_PART_CSP, "X-Frame-Options": "SAMEORIGIN"}
        return HTMLResponse(_html_document(message.html), headers=headers)

    return [
        Route("/mailbox", index, methods=["GET"], name="mailbox"),
        Route("/mailbox/{id}", show, methods=["GET"], name="mailbox_message"),
        Route("/mailbox/{id}/html", html_part, methods=["GET"], name="mailbox_html"),
        *asset_routes(templates),
    ]


def mailbox_app(mailbox: Mailbox) -> Starlette:
    """The mailbox pages alone (``syncd simulate mail``), with the portal's security headers."""

    async def home(request: Request) -> Response:
        return RedirectResponse(request.scope.get("root_path", "") + "/mailbox", status_code=302)

    routes = [Route("/", home, methods=["GET"]), *mailbox_routes(mailbox, Templating(None))]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeadersMiddleware)])
