"""The console's guard on every route: each role gets exactly what it may, other companies are
404, every POST needs the staff CSRF token, and customer and staff sessions never cross."""

from __future__ import annotations

import hashlib
import re

import pytest
from staff_console import A, B, client_for, seed_company, signed_in, token
from starlette.routing import Route

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import effects
from syncd.store.models import AccountSession
from syncd.web.app import create_app

# Reachable signed out: they sign in (the passkey endpoints check the sign-in page's CSRF token).
PUBLIC = {"/staff/sign-in", "/staff/totp", "/staff/passkey/options", "/staff/passkey/sign-in"}
PARAMS = {"company_id": A, "customer_id": "c1", "action": "retry", "name": "aging"}


def staff_routes(ctx: Context) -> list[Route]:
    routes = [r for r in create_app(ctx).routes if isinstance(r, Route) and r.path.startswith("/staff")]
    assert len(routes) > 10
    return routes


def concrete(path: str, **changes: str) -> str:
    params = {**PARAMS, **changes}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: params[m.group(1)], path)


def failed_status(ctx: Context) -> str:
    with ctx.db.transaction() as s:
        row = effects.get(s, "test:failed:111")
        assert row is not None
        return row.status


def test_every_staff_route_is_guarded_or_a_sign_in_page(ctx: Context) -> None:
    for route in staff_routes(ctx):
        assert hasattr(route, "staff_roles") or route.path in PUBLIC, (
            f"{route.path} is not mounted with staff_route"
        )


OWNER, BOOKKEEPER, COLLECTOR, READ_ONLY = StaffRole
EVERYONE = frozenset(StaffRole)
# Who may use each route under /staff, written out here rather than read from the routes, so a
# route that loosens its roles fails this test, and so does a new route without an entry here.
POLICY: dict[tuple[str, str], frozenset[StaffRole]] = {
    ("GET", "/staff"): EVERYONE,
    ("GET", "/staff/switch"): EVERYONE,
    ("POST", "/staff/sign-out"): EVERYONE,
    ("GET", "/staff/password"): EVERYONE,
    ("POST", "/staff/password"): EVERYONE,
    ("GET", "/staff/authenticator"): EVERYONE,
    ("POST", "/staff/authenticator"): EVERYONE,
    ("GET", "/staff/passkeys"): EVERYONE,
    ("POST", "/staff/passkeys/options"): EVERYONE,
    ("POST", "/staff/passkeys/register"): EVERYONE,
    ("POST", "/staff/passkeys/remove"): EVERYONE,
    ("GET", "/staff/c/{company_id}"): EVERYONE,
    ("POST", "/staff/c/{company_id}/resume"): frozenset({OWNER, BOOKKEEPER}),
    ("GET", "/staff/c/{company_id}/invoices"): EVERYONE,
    ("GET", "/staff/c/{company_id}/customers/{customer_id}"): EVERYONE,
    ("POST", "/staff/c/{company_id}/customers/{customer_id}/{action}"): frozenset({OWNER, BOOKKEEPER}),
    ("GET", "/staff/c/{company_id}/queue"): frozenset({OWNER, BOOKKEEPER, READ_ONLY}),
    ("POST", "/staff/c/{company_id}/queue/{action}"): frozenset({OWNER, BOOKKEEPER}),
    ("GET", "/staff/c/{company_id}/activity"): frozenset({OWNER}),
    ("GET", "/staff/c/{company_id}/reports/{name}"): frozenset({OWNER, BOOKKEEPER, READ_ONLY}),
    ("GET", "/staff/c/{company_id}/collect"): frozenset({OWNER, BOOKKEEPER, COLLECTOR}),
    ("GET", "/staff/c/{company_id}/collect/{customer_id}"): frozenset({OWNER, BOOKKEEPER, COLLECTOR}),
    ("POST", "/staff/c/{company_id}/collect/{customer_id}/{action}"): frozenset({OWNER, COLLECTOR}),
}


def test_the_console_routes_are_the_ones_the_policy_names(ctx: Context) -> None:
    """Every route the app mounts under /staff (the console's and other areas') has its entry."""
    mounted = {
        (method, route.path)
        for route in staff_routes(ctx)
        if route.path not in PUBLIC
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert mounted - set(POLICY) == set(), "a route under /staff without a POLICY entry"
    assert set(POLICY) - mounted == set(), "a POLICY entry for a route no longer mounted"
    for route in staff_routes(ctx):
        declared = getattr(route, "staff_roles", None)
        for method in (route.methods or set()) - {"HEAD"}:
            if (method, route.path) in POLICY:
                assert declared == POLICY[(method, route.path)], (method, route.path, declared)


@pytest.mark.parametrize("role", list(StaffRole))
def test_each_role_gets_exactly_what_it_may_on_every_route(ctx: Context, role: StaffRole) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, f"{role.value}@firm.test", {A: role})
    csrf = token(client.get("/staff"))
    checked = 0
    for route in staff_routes(ctx):
        declared: frozenset[StaffRole] | None = getattr(route, "staff_roles", None)
        if declared is None:
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            allowed = POLICY.get((method, route.path), declared)
            # A collections form is named by what it records (the queue's and a customer's by what
            # it does).
            named = {"/collect/": "note", "/customers/": "autopay-off"}
            action = next((a for part, a in named.items() if part in route.path), "retry")
            path = concrete(route.path, action=action)
            if method == "GET":
                answer = client.get(path)
            elif getattr(route, "staff_csrf_header", False):  # a script's POST: the token in a header
                answer = client.post(path, content=b"{}", headers={"X-CSRF-Token": csrf})
            else:
                # Without confirm=yes a queue or resume POST only asks: nothing is changed here.
                answer = client.post(path, data={"csrf_token": csrf, "key": "k", "customer": "c1"})
            if path == "/staff/sign-out":
                assert answer.status_code == 303
                client = signed_in(ctx, f"{role.value}@firm.test", {A: role})
                csrf = token(client.get("/staff"))
                continue
            if role in allowed and role is COLLECTOR and "/collect/" in route.path:
                # The guard lets them in; the page answers 404 for an account they do not own.
                assert answer.status_code != 403, (method, path, answer.status_code)
            elif role in allowed:
                assert answer.status_code not in (403, 404), (method, path, answer.status_code)
            else:
                assert answer.status_code == 403, (method, path, answer.status_code)
            if "{company_id}" in route.path:
                elsewhere = concrete(route.path, company_id=B)
                other = (
                    client.get(elsewhere)
                    if method == "GET"
                    else client.post(elsewhere, data={"csrf_token": csrf})
                )
                assert other.status_code == 404, (method, elsewhere, other.status_code)
            checked += 1
    assert checked >= len(POLICY) - 1


def test_read_only_never_acts(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "reader@firm.test", {A: StaffRole.READ_ONLY})
    queue = client.get(f"/staff/c/{A}/queue")
    assert queue.status_code == 200 and "test:failed:111" in queue.text
    assert 'action="/staff/c/111/queue/retry"' not in queue.text
    csrf = token(queue)
    answer = client.post(
        f"/staff/c/{A}/queue/retry", data={"csrf_token": csrf, "key": "test:failed:111", "confirm": "yes"}
    )
    assert answer.status_code == 403
    assert failed_status(ctx) == "failed"


def test_collector_sees_collections_pages_only(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "collector@firm.test", {A: StaffRole.COLLECTOR})
    home = client.get(f"/staff/c/{A}")
    assert home.status_code == 303 and home.headers["location"].endswith("/invoices")
    invoices = client.get(f"/staff/c/{A}/invoices")
    assert (
        invoices.status_code == 200
        and "Needs a person" not in invoices.text
        and "Activity" not in invoices.text
    )
    assert client.get(f"/staff/c/{A}/queue").status_code == 403
    assert client.get(f"/staff/c/{A}/activity").status_code == 403


def test_every_staff_post_refuses_a_missing_or_foreign_token(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    portal_like = client_for(ctx)
    foreign = token(portal_like.get("/staff/sign-in"))  # minted for another browser's cookie
    posts = [r for r in staff_routes(ctx) if "POST" in (r.methods or ())]
    assert len(posts) >= 6
    for route in posts:
        path = concrete(route.path)
        for data in ({}, {"csrf_token": "1.forged"}, {"csrf_token": foreign}):
            fields = {**data, "key": "test:failed:111", "customer": "c1", "confirm": "yes", "email": "x@y.z"}
            answer = client.post(path, data=fields)
            assert answer.status_code == 403, (path, data, answer.status_code)
            # A script's POST carries the token in a header: a forged or foreign one there is no better.
            headers = {"X-CSRF-Token": data["csrf_token"]} if data else {}
            answer = client.post(path, content=b'{"id": "x"}', headers=headers)
            assert answer.status_code == 403, (path, "header", data, answer.status_code)
    assert failed_status(ctx) == "failed"
    assert client.get("/staff").status_code == 200  # still signed in: sign-out needs the token too


def test_customer_session_reaches_no_staff_route(ctx: Context) -> None:
    sid = "c" * 43
    with ctx.db.transaction() as s:
        s.add(
            AccountSession(
                digest=hashlib.sha256(sid.encode()).hexdigest(),
                email="payer@example.com",
                company_id=A,
                customer_id="c1",
                created_at=ctx.clock(),
                last_seen_at=ctx.clock(),
            )
        )
    client = client_for(ctx)
    client.cookies.set("syncd_account", sid)
    client.cookies.set("syncd_staff", sid)  # the same value as a staff cookie means nothing either
    for route in staff_routes(ctx):
        if route.path in PUBLIC or route.path.startswith("/staff/assets"):
            continue
        path = concrete(route.path)
        if "GET" in (route.methods or ()):
            answer = client.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/staff/sign-in", path
        if "POST" in (route.methods or ()):
            assert client.post(path, data={}).status_code == 403, path


ACCOUNT_PUBLIC = {"/account/sign-in", "/account/help", "/account/link/{token}"}
ACCOUNT_PARAMS = {"token": "t" * 43, "ref": "r1", "invoice_id": "1", "template": "t1", "action": "skip"}


def test_staff_session_opens_no_customer_page(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    account = client.get("/account")
    assert account.status_code == 303 and account.headers["location"].endswith("/account/sign-in")
    # Even the staff cookie's value presented as the customer's cookie opens nothing.
    client.cookies.set("syncd_account", client.cookies["syncd_staff"])
    staff_csrf = token(client.get("/staff"))
    pages = [r for r in create_app(ctx).routes if isinstance(r, Route) and r.path.startswith("/account")]
    assert len(pages) > 10
    for route in pages:
        if route.path in ACCOUNT_PUBLIC:
            continue
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ACCOUNT_PARAMS.get(m.group(1), "register"), route.path)
        if "GET" in (route.methods or ()):
            answer = client.get(path)
            assert answer.status_code in (303, 401, 403, 404), (path, answer.status_code)
        if "POST" in (route.methods or ()):
            # The console's CSRF token is no customer form's, in the body or in a header.
            answer = client.post(path, data={"csrf_token": staff_csrf}, headers={"X-CSRF-Token": staff_csrf})
            assert answer.status_code in (303, 400, 401, 403, 404), (path, answer.status_code)
            assert answer.status_code != 303 or "/staff" not in answer.headers["location"], path
    assert client.get("/staff").status_code == 200  # and the console session is untouched
