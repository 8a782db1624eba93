"""The simulator's ASGI app: OAuth endpoints and the gate before the v3 API (auth, limits, faults, replay)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.quickbooks.simulator import api, ui
from connectors.quickbooks.simulator.company import SimCompany, StoredReply
from connectors.quickbooks.simulator.faults import Faults
from connectors.quickbooks.simulator.limits import Limits
from connectors.quickbooks.simulator.oauth import OAuthError, TokenAuthority, discovery_document
from connectors.quickbooks.simulator.wire import (
    THROTTLE_XML,
    QboFault,
    auth_fault_body,
    dumps,
    gateway_timeout,
    loads,
    server_error,
    unknown_route,
)

log = logging.getLogger(__name__)
DISCOVERY_PATH = "/.well-known/openid_configuration"


@dataclass
class Runtime:
    """What the routes need from the simulator that owns them."""

    companies: dict[str, SimCompany]
    authority: TokenAuthority
    limits: Limits
    faults: Faults
    now: Callable[[], datetime]
    base_url: Callable[[], str]
    default_realm: str
    stopping: threading.Event = field(default_factory=threading.Event)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json")


def _fault(fault: QboFault, now: datetime) -> Response:
    return _json(fault.body(now), fault.status)


def build_app(rt: Runtime) -> Starlette:
    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document(rt.base_url()))

    async def authorize(request: Request) -> Response:
        params = request.query_params
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != rt.authority.client_id or not redirect_uri.startswith(
            ("http://", "https://")
        ):
            return HTMLResponse("<h1>Invalid client or redirect_uri</h1>", status_code=400)
        realm_id = params.get("realm_id") or rt.default_realm
        if realm_id not in rt.companies:
            return HTMLResponse("<h1>Unknown company</h1>", status_code=400)
        code = rt.authority.issue_code(realm_id, redirect_uri)
        query = urlencode({"code": code, "state": params.get("state", ""), "realmId": realm_id})
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302)

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        try:
            rt.authority.check_client(request.headers.get("authorization"), form)
            grant = form.get("grant_type")
            if grant == "authorization_code":
                _, body = rt.authority.exchange_code(form.get("code", ""), form.get("redirect_uri"))
            elif grant == "refresh_token":
                body = rt.authority.refresh(form.get("refresh_token", ""))
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def revoke(request: Request) -> Response:
        raw = await request.body()
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        try:
            rt.authority.check_client(request.headers.get("authorization"), form)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        try:
            token_value = str(loads(raw).get("token", "")) if raw.strip().startswith(b"{") else ""
        except ValueError:
            token_value = ""
        if not token_value:
            token_value = parse_qs(raw.decode("utf-8", "replace")).get("token", [""])[0]
        rt.authority.revoke(token_value)
        return Response(b"", status_code=200)

    async def userinfo(request: Request) -> Response:
        bearer = request.headers.get("authorization", "")[7:]
        realm_id = rt.authority.realm_of(bearer)
        if realm_id is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(
            {
                "sub": f"sim-user-{realm_id}",
                "email": "owner@northwind.example.com",
                "emailVerified": True,
                "givenName": "Sim",
                "familyName": "Owner",
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": []})

    async def home(request: Request) -> Response:
        realm_id = request.path_params.get("realm", rt.default_realm)
        company = rt.companies.get(realm_id)
        if company is None:
            return HTMLResponse("<h1>Unknown company</h1>", status_code=404)
        with company.state.lock:
            page = ui.render(company, rt.now())
        return HTMLResponse(page)

    async def v3(request: Request) -> Response:
        return await _gate(rt, request)

    async def fallback(request: Request) -> Response:
        return _fault(unknown_route(request.url.path), rt.now())

    routes = [
        Route("/", home),
        Route("/company/{realm}/ui", home),
        Route(DISCOVERY_PATH, discovery),
        Route("/connect/oauth2", authorize),
        Route("/oauth2/v1/tokens/bearer", token, methods=["POST"]),
        Route("/oauth2/v1/tokens/revoke", revoke, methods=["POST"]),
        Route("/v1/openid_connect/userinfo", userinfo),
        Route("/oauth2/v1/keys", jwks),
        Route("/v3/company/{realm}/{tail:path}", v3, methods=["GET", "POST"]),
        Route("/{anything:path}", fallback, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    return Starlette(routes=routes)


async def _sleep(rt: Runtime, seconds: float) -> None:
    """Sleep in slices so a stopping simulator, or a faults.reset(), ends a hung request early."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    generation = rt.faults.generation
    while (
        not rt.stopping.is_set()
        and generation == rt.faults.generation
        and (left := deadline - loop.time()) > 0
    ):
        await asyncio.sleep(min(left, 0.05))


async def _gate(rt: Runtime, request: Request) -> Response:
    now = rt.now()
    realm_id = request.path_params["realm"]
    tail = [part for part in request.path_params["tail"].split("/") if part]
    auth = request.headers.get("authorization", "")
    token_value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    company = rt.companies.get(realm_id)
    if rt.faults.take_unauthorized() or company is None or rt.authority.realm_of(token_value) != realm_id:
        hint = token_value[:12] + "..." if token_value else "no access token"
        return _json(auth_fault_body(hint, now), 401)
    method = request.method
    kind = api.kind_of(method, tail)
    if rt.faults.take_throttle() or not rt.limits.admit(realm_id, now.timestamp(), batch=kind == "batch"):
        company.count("throttled")
        return Response(THROTTLE_XML.encode(), status_code=429, media_type="application/xml")
    try:
        return await _serve(rt, company, request, method, tail, kind)
    finally:
        rt.limits.release(realm_id)


async def _serve(
    rt: Runtime, company: SimCompany, request: Request, method: str, tail: list[str], kind: str
) -> Response:
    params = dict(request.query_params)
    request_id = params.get("requestid") if method == "POST" else None
    if rt.faults.latency_seconds > 0:
        await _sleep(rt, rt.faults.latency_seconds)
    injected = rt.faults.draw()
    if injected == "error":
        return _fault(server_error(), rt.now())
    body = await request.body()
    # No await from the replay check to remember(): concurrent retries of one requestid create once.
    response = _answer(rt, company, method, tail, params, body, request, kind, request_id)
    if injected == "timeout":
        # The work is done (a write is committed) but the answer never arrives in time: exactly the
        # case a client must retry with the same requestid.
        await _sleep(rt, rt.faults.timeout_seconds)
        return _fault(gateway_timeout(), rt.now())
    return response


def _answer(
    rt: Runtime,
    company: SimCompany,
    method: str,
    tail: list[str],
    params: dict[str, str],
    body: bytes,
    request: Request,
    kind: str,
    request_id: str | None,
) -> Response:
    if kind == "batch" and api.writes_in_batch(body):
        company.count("batch_write")
    with company.state.lock:
        # QBO makes invoices from its recurring templates on their dates: the simulator does it as
        # its clock is found to have moved past them.
        company.recurring.run()
        if request_id is not None:
            stored = company.replies.get(request_id)
            if stored is not None:
                company.count(kind)
                return Response(stored.body, status_code=stored.status, media_type=stored.media_type)
        try:
            reply = api.process(
                company, method, tail, params, body, request.headers.get("content-type", ""), rt.faults
            )
        except QboFault as fault:
            company.count(kind)
            return _fault(fault, rt.now())
        except Exception:  # a simulator bug must still answer in QBO's shape, never with a trace
            log.exception("simulator failed on %s %s", method, request.url.path)
            return _fault(server_error(), rt.now())
        company.count(reply.kind)
        if reply.raw is not None:
            return Response(reply.raw, status_code=reply.status, media_type=reply.media_type)
        encoded = dumps(api.envelope(reply, rt.now()))
        if request_id is not None and reply.status == 200:
            company.remember(request_id, StoredReply(reply.status, encoded, reply.media_type))
        return Response(encoded, status_code=reply.status, media_type=reply.media_type)
