"""Csrf tokens: bound to the cookie, the action and a time window; forged ones never verify."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from syncd.errors import ConfigError
from syncd.web.csrf import Csrf


def request(cookie: str | None = None, scheme: str = "http") -> Request:
    headers = [(b"cookie", f"syncd_csrf={cookie}".encode())] if cookie else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "scheme": scheme,
        "server": ("pay.example.com", 443 if scheme == "https" else 80),
        "query_string": b"",
    }
    return Request(scope)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_round_trip_needs_same_cookie_and_action() -> None:
    csrf = Csrf(b"s" * 32)
    issued = csrf.issue(request(), "pay:a")
    assert issued.new_cookie is not None
    with_cookie = request(issued.new_cookie)
    assert csrf.verify(with_cookie, "pay:a", issued.token)
    assert not csrf.verify(with_cookie, "pay:b", issued.token)
    assert not csrf.verify(request(), "pay:a", issued.token)
    other_cookie = csrf.issue(request(), "pay:a").new_cookie
    assert not csrf.verify(request(other_cookie), "pay:a", issued.token)


def test_existing_cookie_is_reused() -> None:
    csrf = Csrf(b"s" * 32)
    cookie = csrf.issue(request(), "x").new_cookie
    again = csrf.issue(request(cookie), "x")
    assert again.new_cookie is None
    assert csrf.verify(request(cookie), "x", again.token)


@pytest.mark.parametrize(
    "submitted",
    [None, "", "abc", "123.", ".abc", "x" * 500, 42, "-1.abc", "\u00b2.abc", "\u0661\u0662.abc", "1.\u00e9"],
)
def test_malformed_tokens_fail(submitted: object) -> None:
    csrf = Csrf(b"s" * 32)
    cookie = csrf.issue(request(), "x").new_cookie
    assert not csrf.verify(request(cookie), "x", submitted)


def test_malformed_cookie_is_replaced() -> None:
    csrf = Csrf(b"s" * 32)
    assert csrf.issue(request("short"), "x").new_cookie is not None


def test_tokens_from_another_secret_fail() -> None:
    a, b = Csrf(b"a" * 32), Csrf(b"b" * 32)
    issued = a.issue(request(), "x")
    assert not b.verify(request(issued.new_cookie), "x", issued.token)


def test_tokens_expire() -> None:
    clock = Clock()
    csrf = Csrf(b"s" * 32, max_age_seconds=600, clock=clock)
    issued = csrf.issue(request(), "x")
    clock.now += 599
    assert csrf.verify(request(issued.new_cookie), "x", issued.token)
    clock.now += 2
    assert not csrf.verify(request(issued.new_cookie), "x", issued.token)


def test_timestamp_cannot_be_moved_forward() -> None:
    clock = Clock()
    csrf = Csrf(b"s" * 32, clock=clock)
    issued = csrf.issue(request(), "x")
    ts, mac = issued.token.split(".")
    forged = f"{int(ts) + 3600}.{mac}"
    assert not csrf.verify(request(issued.new_cookie), "x", forged)


def test_short_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Csrf(b"short")


def test_https_uses_host_prefixed_cookie() -> None:
    assert Csrf.cookie_name(request(scheme="https")) == "__Host-syncd_csrf"
    assert Csrf.cookie_name(request()) == "syncd_csrf"
