"""The Starlette app: Stripe's REST wire protocol (auth, Idempotency-Key, faults, form params,
``expand[]``, JSON errors) in front of the route table, plus the hosted payment page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as WebRoute

from connectors.stripe.simulator import (
    balance,
    captures,
    charges,
    checkout,
    customers,
    disputes,
    events,
    hosted_page,
    payment_intents,
    payment_methods,
    payouts,
    refunds,
    setup_intents,
    webhook_endpoints,
)
from connectors.stripe.simulator.accounts import Accounts
from connectors.stripe.simulator.errors import ApiError, auth_missing, not_found_route, rate_limited
from connectors.stripe.simulator.expand import expand
from connectors.stripe.simulator.faults import Faults
from connectors.stripe.simulator.forms import parse_pairs, str_list, validate
from connectors.stripe.simulator.idempotency import IdempotencyKeys
from connectors.stripe.simulator.ids import new_id
from connectors.stripe.simulator.limits import RateLimits
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import RequestInfo, SimState

JsonDict = dict[str, Any]

ROUTES: list[Route] = [
    *customers.ROUTES,
    *payment_methods.ROUTES,
    *setup_intents.ROUTES,
    *checkout.ROUTES,
    *payment_intents.ROUTES,
    *captures.ROUTES,
    *charges.ROUTES,
    *refunds.ROUTES,
    *disputes.ROUTES,
    *balance.ROUTES,
    *payouts.ROUTES,
    *events.ROUTES,
    *webhook_endpoints.ROUTES,
]


class ApiFront:
    """Everything between the socket and a handler, in Stripe's order: auth, rate limit and
    faults, idempotent replay, parameter validation, the handler, expansion."""

    def __init__(
        self,
        state: SimState,
        faults: Faults,
        keys: IdempotencyKeys,
        after: Callable[[], None],
        accounts: Accounts | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self.state = state
        self.limits = RateLimits() if limits is None else limits
        if accounts is None:
            accounts = Accounts()
            accounts.add(state)
        self.accounts = accounts
        self.faults = faults
        self.keys = keys
        self.after = after
        self.count = 0

    async def __call__(self, request: Request) -> Response:
        body = await request.body() if request.method == "POST" else b""
        request_id = new_id("request")
        try:
            status, payload, replayed = self._serve(request, body, request_id)
        except ApiError as error:
            status, payload, replayed = error.status, _dump(error.body()), False
        headers = {"Request-Id": request_id, "Stripe-Version": self.state.config.api_version}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(payload, status_code=status, media_type="application/json", headers=headers)

    def _serve(self, request: Request, body: bytes, request_id: str) -> tuple[int, bytes, bool]:
        with self.state.lock:
            self.count += 1
        state = self._authenticate(
            request.headers.get("authorization"), request.headers.get("stripe-account")
        )
        method, path = request.method, request.url.path
        route, path_args = self._route(method, path)
        if not self.limits.admit(state.account, f"{method} {route.template}"):
            raise rate_limited()
        fault = self.faults.pick()
        if fault is not None:
            raise fault
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True) if method == "POST" else []
        pairs += parse_qsl(request.url.query, keep_blank_values=True)
        key = request.headers.get("idempotency-key") if method == "POST" else None
        with state.lock:
            now = state.clock.now()
            fingerprint = self.keys.fingerprint(method, path, repr(sorted(pairs)).encode())
            # Idempotency keys are per account, as Stripe keeps them.
            scoped = f"{state.account}:{key}"
            if key:
                stored = self.keys.lookup(scoped, fingerprint, now)
                if stored is not None:
                    return stored.status, stored.body, True
            state.request = RequestInfo(request_id, key)
            try:
                status, payload = self._execute(state, route, path_args, pairs)
            except ApiError as error:
                if key and error.saved:
                    self.keys.save(scoped, fingerprint, error.status, _dump(error.body()), now)
                raise
            finally:
                state.request = RequestInfo()
                self.after()
            if key:
                self.keys.save(scoped, fingerprint, status, payload, now)
            return status, payload, False

    @staticmethod
    def _execute(
        state: SimState, route: Route, path_args: dict[str, str], pairs: list[tuple[str, str]]
    ) -> tuple[int, bytes]:
        params = parse_pairs(pairs)
        validate(params, route.spec)
        ctx = Ctx(state, params, path_args)
        result = route.handler(ctx)
        paths = str_list(params, "expand")
        result = expand(state, result, paths)
        return ctx.status, _dump(result)

    def _authenticate(self, header: str | None, stripe_account: str | None) -> SimState:
        """The account the request acts on (``Stripe-Account``: a connected one of the key's)."""
        if not header or not header.lower().startswith("bearer "):
            raise auth_missing()
        return self.accounts.authenticate(header[7:].strip(), stripe_account)

    @staticmethod
    def _route(method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in ROUTES:
            args = route.match(method, path)
            if args is not None:
                return route, args
        raise not_found_route(method, path)


def _dump(obj: JsonDict) -> bytes:
    # Compact JSON: the C encoder is only used without ``indent`` (10x faster on big lists).
    return json.dumps(obj, separators=(",", ":")).encode()


def build_app(front: ApiFront) -> Starlette:
    def state(request: Request) -> SimState:
        # The hosted page serves the session of whichever account it lives in.
        return front.accounts.holding(str(request.path_params["session_id"]))

    async def page(request: Request) -> Response:
        return await hosted_page.get_page(request, state(request))

    async def submit(request: Request) -> Response:
        return await hosted_page.post_page(request, state(request), front.after)

    async def api(request: Request) -> Response:
        return await front(request)

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            WebRoute("/pay/{session_id}", page, methods=["GET"]),
            WebRoute("/pay/{session_id}", submit, methods=["POST"]),
            WebRoute("/healthz", health, methods=["GET"]),
            WebRoute("/v1/{rest:path}", api, methods=["GET", "POST", "DELETE"]),
        ]
    )
