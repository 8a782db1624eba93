"""Signing in to the console: password then TOTP (each code good once), one-time passwords
replaced first, the rate limit, the same answer for unknown people, and sessions that end (sign
out, idle, age, removal, reset)."""

from __future__ import annotations

import time

import pyotp
from staff_console import (
    PASSWORD,
    A,
    Clock,
    add_person,
    client_for,
    sign_in,
    signed_in,
    token,
    user_row,
)

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import staff as roster
from syncd.store import staff_sessions
from syncd.store.models import StaffSession

OWNER = {A: StaffRole.OWNER}


def test_wrong_password_and_unknown_email_get_the_same_answer(ctx: Context) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    client = client_for(ctx)
    wrong = sign_in(client, "owner@firm.test", "not the password")
    unknown = sign_in(client, "nobody@firm.test", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text
    assert "syncd_staff" not in wrong.headers.get("set-cookie", "")


def test_five_failures_for_an_email_refuse_even_the_right_password(ctx: Context, clock: Clock) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    client = client_for(ctx)
    for _ in range(staff_sessions.PER_EMAIL):
        assert sign_in(client, "owner@firm.test", "guess").status_code == 400
    limited = sign_in(client, "owner@firm.test", PASSWORD)
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert client.get("/staff").status_code == 303  # not signed in
    clock.advance(minutes=16)
    assert sign_in(client, "owner@firm.test", PASSWORD).status_code == 303


def test_one_address_guessing_many_emails_is_limited(ctx: Context) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    client = client_for(ctx)
    for n in range(staff_sessions.PER_ADDRESS):
        assert sign_in(client, f"guess{n}@firm.test", "guess").status_code == 400
    assert sign_in(client, "owner@firm.test", PASSWORD).status_code == 429


def test_session_cookie_is_httponly_strict_and_host_bound_over_https(ctx: Context) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    client = client_for(ctx, base_url="https://pay.example.com")
    answer = sign_in(client, "owner@firm.test")
    cookie = [c for c in answer.headers.get_list("set-cookie") if c.startswith("__Host-syncd_staff=")]
    assert len(cookie) == 1
    flags = cookie[0].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "secure" in flags and "path=/" in flags
    value = cookie[0].split(";")[0].split("=", 1)[1]
    with ctx.db.transaction() as s:
        assert s.get(StaffSession, staff_sessions.digest(value)) is not None  # only its digest is kept
        assert s.get(StaffSession, value) is None


def test_totp_enrolment_then_sign_in_asks_for_the_code(ctx: Context) -> None:
    client = signed_in(ctx, "owner@firm.test", OWNER)
    enrol = client.get("/staff/authenticator")
    secret = enrol.text.split('id="totp-secret">')[1].split("<")[0]
    assert "otpauth://totp/" in enrol.text
    wrong = client.post("/staff/authenticator", data={"csrf_token": token(enrol), "code": "000000"})
    assert wrong.status_code == 400 and not user_row(ctx, "owner@firm.test").totp_confirmed
    step = int(time.time()) // 30
    code = pyotp.TOTP(secret).at(step * 30)
    assert (
        client.post("/staff/authenticator", data={"csrf_token": token(enrol), "code": code}).status_code
        == 200
    )
    assert user_row(ctx, "owner@firm.test").totp_confirmed
    following = pyotp.TOTP(secret).at((step + 1) * 30)  # the enrolment's code is used up

    fresh = client_for(ctx)
    first = sign_in(fresh, "owner@firm.test")
    assert first.status_code == 303 and first.headers["location"] == "/staff/totp"
    owed = fresh.get("/staff")  # the password alone opens nothing
    assert owed.status_code == 303 and owed.headers["location"] == "/staff/totp"
    form = fresh.get("/staff/totp")
    assert fresh.post("/staff/totp", data={"csrf_token": token(form), "code": "123456"}).status_code == 400
    again = fresh.post("/staff/totp", data={"csrf_token": token(form), "code": code})
    assert again.status_code == 400  # the code enrolment accepted is not accepted twice
    done = fresh.post("/staff/totp", data={"csrf_token": token(form), "code": following})
    assert done.status_code == 303 and done.headers["location"] == "/staff"
    assert fresh.get("/staff").status_code == 200

    # Someone who saw the code typed cannot sign in with it within its window, password or not.
    other = client_for(ctx)
    assert sign_in(other, "owner@firm.test").headers["location"] == "/staff/totp"
    form = other.get("/staff/totp")
    replayed = other.post("/staff/totp", data={"csrf_token": token(form), "code": following})
    assert replayed.status_code == 400 and "Wrong code" in replayed.text
    assert other.get("/staff").headers["location"] == "/staff/totp"


def test_a_totp_code_is_accepted_once_and_never_an_older_one(ctx: Context) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    at = 1_800_000_000.0  # some instant; steps are 30 s
    with ctx.db.transaction() as s:
        user = roster.find(s, "owner@firm.test")
        assert user is not None
        assert not roster.accept_totp(user, secret, totp.at(at - 60), at=at)  # outside the window
        assert roster.accept_totp(user, secret, totp.at(at), at=at)
        assert not roster.accept_totp(user, secret, totp.at(at), at=at)  # replayed
        assert not roster.accept_totp(user, secret, totp.at(at - 30), at=at)  # older than the last
        assert not roster.accept_totp(user, secret, totp.at(at), at=at + 20)  # same step, later
        assert roster.accept_totp(user, secret, totp.at(at + 30), at=at + 20)  # the next step
        assert not roster.accept_totp(user, secret, "12345", at=at + 30)
        step = user.totp_last_step
    with ctx.db.transaction() as s:
        user = roster.find(s, "owner@firm.test")
        assert user is not None and user.totp_last_step == step  # stored, so it holds across processes
        roster.reset(s, "owner@firm.test", now=ctx.clock())
        assert user.totp_last_step is None


def test_one_time_password_must_be_replaced_first(ctx: Context) -> None:
    given = add_person(ctx, "new@firm.test", OWNER, temporary=True)
    assert given != PASSWORD
    client = client_for(ctx)
    assert sign_in(client, "new@firm.test", given).status_code == 303
    moved = client.get("/staff")
    assert moved.status_code == 303 and moved.headers["location"] == "/staff/password"
    form = client.get("/staff/password")
    short = client.post(
        "/staff/password", data={"csrf_token": token(form), "password": "short", "again": "short"}
    )
    assert short.status_code == 400 and "12 characters" in short.text
    fields = {"csrf_token": token(form), "password": "a long new password", "again": "a long new password"}
    assert client.post("/staff/password", data=fields).status_code == 303
    assert client.get("/staff").status_code == 200
    assert sign_in(client_for(ctx), "new@firm.test", "a long new password").status_code == 303


def test_removed_or_reset_person_loses_every_session_at_once(ctx: Context) -> None:
    first = signed_in(ctx, "owner@firm.test", OWNER)
    second = client_for(ctx)
    assert sign_in(second, "owner@firm.test").status_code == 303
    with ctx.db.transaction() as s:
        roster.reset(s, "owner@firm.test", now=ctx.clock())
    assert first.get("/staff").status_code == 303 and second.get("/staff").status_code == 303

    again = signed_in(ctx, "owner@firm.test", OWNER)
    with ctx.db.transaction() as s:
        roster.remove(s, "owner@firm.test", now=ctx.clock())
    assert again.get("/staff").status_code == 303
    assert sign_in(client_for(ctx), "owner@firm.test").status_code == 400


def test_disabled_person_session_is_dead(ctx: Context) -> None:
    client = signed_in(ctx, "owner@firm.test", OWNER)
    with ctx.db.transaction() as s:
        user = roster.find(s, "owner@firm.test")
        assert user is not None
        user.disabled_at = ctx.clock()  # disabled by hand: no session row was touched
    assert client.get("/staff").status_code == 303


def test_sessions_end_when_idle_or_old_and_on_sign_out(ctx: Context, clock: Clock) -> None:
    client = signed_in(ctx, "owner@firm.test", OWNER)
    clock.advance(hours=1, minutes=50)
    assert client.get("/staff").status_code == 200  # refreshes the idle clock
    clock.advance(hours=1, minutes=50)
    assert client.get("/staff").status_code == 200
    clock.advance(hours=2, minutes=1)
    assert client.get("/staff").status_code == 303  # idle too long

    client = signed_in(ctx, "owner@firm.test", OWNER)
    for _ in range(7):
        clock.advance(hours=1, minutes=45)
        client.get("/staff")
    assert client.get("/staff").status_code == 303  # older than 12 hours, however busy

    client = signed_in(ctx, "owner@firm.test", OWNER)
    page = client.get("/staff")
    kept = client.cookies["syncd_staff"]
    out = client.post("/staff/sign-out", data={"csrf_token": token(page)})
    assert out.status_code == 303
    client.cookies.set("syncd_staff", kept)  # a copy of the cookie kept after signing out
    assert client.get("/staff").status_code == 303


def test_five_wrong_codes_refuse_even_the_right_one(ctx: Context, clock: Clock) -> None:
    add_person(ctx, "owner@firm.test", OWNER)
    secret = pyotp.random_base32()
    with ctx.db.transaction() as s:
        user = roster.find(s, "owner@firm.test")
        assert user is not None
        roster.seal_totp(user, ctx.box, secret)
        user.totp_confirmed = True
    client = client_for(ctx)
    assert sign_in(client, "owner@firm.test").headers["location"] == "/staff/totp"
    form = client.get("/staff/totp")
    right = pyotp.TOTP(secret).now()
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)
    for _ in range(5):
        assert client.post("/staff/totp", data={"csrf_token": token(form), "code": wrong}).status_code == 400
    limited = client.post("/staff/totp", data={"csrf_token": token(form), "code": right})
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert client.get("/staff").headers["location"] == "/staff/totp"
    clock.advance(minutes=16)  # the window passed (the session, two hours idle at most, lives on)
    done = client.post("/staff/totp", data={"csrf_token": token(form), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303 and client.get("/staff").status_code == 200
