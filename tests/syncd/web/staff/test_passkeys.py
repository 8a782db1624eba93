"""Staff passkeys over HTTP with a software authenticator: registered from a signed-in session,
listed and removed with a confirmation, signing in without password or code; every challenge
answers one ceremony of its own kind once, and failures count towards the sign-in limit."""

from __future__ import annotations

import json
from typing import Any

import pyotp
from soft_authenticator import SoftAuthenticator
from staff_console import PASSWORD, A, Clock, client_for, signed_in, token

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import staff as roster
from syncd.store import staff_passkeys
from syncd.store.models import StaffAction, StaffPasskey

OWNER = {A: StaffRole.OWNER}
ORIGIN = "http://testserver"  # the console settings' public URL: the relying party


def _post(client: Any, path: str, csrf: str, body: str = "") -> Any:
    return client.post(path, content=body.encode(), headers={"X-CSRF-Token": csrf})


def register(client: Any, key: SoftAuthenticator) -> Any:
    csrf = token(client.get("/staff/passkeys"))
    options = _post(client, "/staff/passkeys/options", csrf)
    assert options.status_code == 200, options.text
    return _post(client, "/staff/passkeys/register", csrf, key.create(options.json()))


def passkey_sign_in(client: Any, key: SoftAuthenticator) -> tuple[Any, str]:
    csrf = token(client.get("/staff/sign-in"))
    options = _post(client, "/staff/passkey/options", csrf)
    assert options.status_code == 200, options.text
    answer = key.get(options.json())
    return _post(client, "/staff/passkey/sign-in", csrf, answer), answer


def keys_of(ctx: Context, email: str) -> list[StaffPasskey]:
    with ctx.db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        found = staff_passkeys.keys_of(s, user.id)
        s.expunge_all()
        return found


def test_register_then_sign_in_with_it_skips_password_and_code(ctx: Context) -> None:
    client = signed_in(ctx, "owner@firm.test", OWNER)
    with ctx.db.transaction() as s:  # an authenticator app is on: the passkey stands for both
        user = roster.find(s, "owner@firm.test")
        assert user is not None
        roster.seal_totp(user, ctx.box, pyotp.random_base32())
        user.totp_confirmed = True
    key = SoftAuthenticator(ORIGIN)
    added = register(client, key)
    assert added.status_code == 200 and added.json() == {"ok": True}
    page = client.get("/staff/passkeys")
    assert "Passkeys: 1" in page.text and "Passkey 1" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]

    fresh = client_for(ctx)
    answer, signed = passkey_sign_in(fresh, key)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "next": "/staff"}
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert fresh.get("/staff").status_code == 200  # no TOTP page: the passkey verified the person
    [stored] = keys_of(ctx, "owner@firm.test")
    assert stored.sign_count == 1 and stored.last_used_at is not None

    again = client_for(ctx)
    csrf = token(again.get("/staff/sign-in"))
    replayed = _post(again, "/staff/passkey/sign-in", csrf, signed)  # its challenge is used up
    assert replayed.status_code == 400 and again.get("/staff").status_code == 303
    with ctx.db.transaction() as s:
        actions = [a.action for a in s.query(StaffAction).order_by(StaffAction.id)]
    assert "passkey.added" in actions and "sign_in.passkey" in actions


def test_a_challenge_serves_its_own_ceremony_for_its_own_person_once(ctx: Context) -> None:
    ann = signed_in(ctx, "ann@firm.test", OWNER)
    bob = signed_in(ctx, "bob@firm.test", OWNER)
    csrf = token(ann.get("/staff/passkeys"))
    options = _post(ann, "/staff/passkeys/options", csrf).json()
    made = SoftAuthenticator(ORIGIN).create(options)
    bob_csrf = token(bob.get("/staff/passkeys"))
    # Bob presents an answer to Ann's challenge: refused, and the challenge is gone for Ann too.
    assert _post(bob, "/staff/passkeys/register", bob_csrf, made).status_code == 400
    assert _post(ann, "/staff/passkeys/register", csrf, made).status_code == 400
    assert keys_of(ctx, "ann@firm.test") == [] and keys_of(ctx, "bob@firm.test") == []

    key = SoftAuthenticator(ORIGIN)
    assert register(ann, key).json() == {"ok": True}
    # A sign-in answer to a registration challenge is no sign-in.
    options = _post(ann, "/staff/passkeys/options", csrf).json()
    cross = key.get({"challenge": options["challenge"]}, rp_id=options["rp"]["id"])
    fresh = client_for(ctx)
    fresh_csrf = token(fresh.get("/staff/sign-in"))
    assert _post(fresh, "/staff/passkey/sign-in", fresh_csrf, cross).status_code == 400
    # Another origin's answer (a phishing page) is refused even with a live challenge.
    phished = SoftAuthenticator("http://evil.example", key=key.key, credential_id=key.credential_id)
    options = _post(fresh, "/staff/passkey/options", fresh_csrf).json()
    assert _post(fresh, "/staff/passkey/sign-in", fresh_csrf, phished.get(options)).status_code == 400
    assert fresh.get("/staff").status_code == 303


def test_malformed_answers_and_missing_tokens_are_refused(ctx: Context) -> None:
    client = client_for(ctx)
    csrf = token(client.get("/staff/sign-in"))
    assert client.post("/staff/passkey/options").status_code == 403  # no token in the header
    assert _post(client, "/staff/passkey/options", "1.forged").status_code == 403
    for body in ("", "{", "[]", json.dumps({"id": "x", "response": {"clientDataJSON": "!!"}}), "x" * 70_000):
        answer = _post(client, "/staff/passkey/sign-in", csrf, body)
        assert answer.status_code in (400, 403) and "ok" in answer.text, body[:20]
    assert client.post("/staff/passkey/sign-in", content=b"{}").status_code == 403


def test_failed_passkey_sign_ins_are_rate_limited_per_address(ctx: Context, clock: Clock) -> None:
    owner = signed_in(ctx, "owner@firm.test", OWNER)
    key = SoftAuthenticator(ORIGIN)
    assert register(owner, key).json() == {"ok": True}
    client = client_for(ctx)
    csrf = token(client.get("/staff/sign-in"))
    stranger = SoftAuthenticator(ORIGIN)  # a credential the console never registered
    early = key.get(_post(client, "/staff/passkey/options", csrf).json())  # asked before the failures
    for _ in range(5):
        options = _post(client, "/staff/passkey/options", csrf).json()
        assert _post(client, "/staff/passkey/sign-in", csrf, stranger.get(options)).status_code == 400
    options = _post(client, "/staff/passkey/options", csrf)
    assert options.status_code == 429  # no more challenges for this address, for the window
    assert _post(client, "/staff/passkey/sign-in", csrf, early).status_code == 429  # even the right one
    # They count towards the address's twenty with wrong passwords.
    for n in range(15):
        wrong = client.post(
            "/staff/sign-in", data={"csrf_token": csrf, "email": f"guess{n}@firm.test", "password": "nope"}
        )
        assert wrong.status_code == 400
    right = client.post(
        "/staff/sign-in", data={"csrf_token": csrf, "email": "other@firm.test", "password": PASSWORD}
    )
    assert right.status_code == 429
    clock.advance(minutes=16)
    answer, _ = passkey_sign_in(client, key)
    assert answer.status_code == 200


def test_remove_asks_first_and_only_removes_ones_own(ctx: Context) -> None:
    ann = signed_in(ctx, "ann@firm.test", OWNER)
    bob = signed_in(ctx, "bob@firm.test", OWNER)
    key = SoftAuthenticator(ORIGIN)
    assert register(ann, key).json() == {"ok": True}
    [stored] = keys_of(ctx, "ann@firm.test")
    csrf = token(bob.get("/staff/passkeys"))
    theirs = bob.post(
        "/staff/passkeys/remove",
        data={"csrf_token": csrf, "credential": stored.credential_id, "confirm": "yes"},
    )
    assert theirs.status_code == 404 and len(keys_of(ctx, "ann@firm.test")) == 1
    csrf = token(ann.get("/staff/passkeys"))
    asked = ann.post("/staff/passkeys/remove", data={"csrf_token": csrf, "credential": stored.credential_id})
    assert asked.status_code == 200 and "Remove this passkey?" in asked.text
    assert len(keys_of(ctx, "ann@firm.test")) == 1
    done = ann.post(
        "/staff/passkeys/remove",
        data={"csrf_token": token(asked), "credential": stored.credential_id, "confirm": "yes"},
    )
    assert done.status_code == 303 and keys_of(ctx, "ann@firm.test") == []
    answer, _ = passkey_sign_in(client_for(ctx), key)
    assert answer.status_code == 400  # a removed passkey signs no one in


def test_reset_forgets_passkeys(ctx: Context) -> None:
    ann = signed_in(ctx, "ann@firm.test", OWNER)
    key = SoftAuthenticator(ORIGIN)
    assert register(ann, key).json() == {"ok": True}
    with ctx.db.transaction() as s:
        roster.reset(s, "ann@firm.test", now=ctx.clock())
    assert keys_of(ctx, "ann@firm.test") == []
    answer, _ = passkey_sign_in(client_for(ctx), key)
    assert answer.status_code == 400
