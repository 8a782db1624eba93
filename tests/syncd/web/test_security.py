"""SecurityHeadersMiddleware: the headers, the checkout origin, and routes that set their own."""

from __future__ import annotations

import warnings

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncd.errors import ConfigError
from syncd.web.security import SecurityHeadersMiddleware, content_security_policy

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


async def plain(request: Request) -> Response:
    return PlainTextResponse("ok")


async def own(request: Request) -> Response:
    return PlainTextResponse(
        "ok", headers={"Cache-Control": "public, max-age=60", "X-Frame-Options": "SAMEORIGIN"}
    )


def app(checkout: str) -> Starlette:
    return Starlette(
        routes=[Route("/", plain), Route("/own", own)],
        middleware=[Middleware(SecurityHeadersMiddleware, checkout_origin=checkout)],
    )


def test_checkout_origin_is_in_form_action() -> None:
    with TestClient(app("http://127.0.0.1:4242/some/path")) as c:
        csp = c.get("/").headers["content-security-policy"]
    assert "form-action 'self' https: http://127.0.0.1:4242;" in csp


def test_route_headers_win_and_others_are_added() -> None:
    with TestClient(app("https://checkout.stripe.com")) as c:
        r = c.get("/own")
    assert r.headers["cache-control"] == "public, max-age=60"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_hsts_only_over_https() -> None:
    with TestClient(app("https://checkout.stripe.com"), base_url="https://x.example") as c:
        assert "strict-transport-security" in c.get("/").headers
    with TestClient(app("https://checkout.stripe.com")) as c:
        assert "strict-transport-security" not in c.get("/").headers


@pytest.mark.parametrize(
    "origin", ["javascript:alert(1)", "https://a.example; script-src *", "checkout.stripe.com"]
)
def test_bad_checkout_origin_is_a_config_error(origin: str) -> None:
    with pytest.raises(ConfigError):
        content_security_policy(origin)
