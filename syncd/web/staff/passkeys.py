"""Staff passkeys: register one from the console once signed in, list and remove them, and sign in
with one instead of a password and TOTP code.

The ceremonies are ``syncd.stages.passkey_ceremony``'s (the customers' passkeys use the same);
the keys and their single-use challenges are ``syncd.store.staff_passkeys``'s. The script's POSTs
carry the staff CSRF token in a header. A failed passkey sign-in is counted like a wrong password,
under the address and a name of its own per address (``(passkey) <address>``): five within the
window refuse passkeys from that address, and they count towards the address's twenty.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context
from syncd.stages import passkey_ceremony as ceremony
from syncd.store import staff_audit as audit
from syncd.store import staff_passkeys as keys
from syncd.store import staff_sessions as sessions
from syncd.store.models import StaffPasskey, StaffUser
from syncd.web.staff.guard import (
    ACTION,
    CSRF_HEADER,
    EVERYONE,
    StaffGate,
    form_of,
    gate_of,
    principal_of,
    set_session_cookie,
    staff_route,
)

MAX_ANSWER = 64 * 1024  # a WebAuthn answer is a few kilobytes; anything larger is not one


def _counted_as(ip: str) -> str:
    """The name a failed passkey sign-in is counted under: per address, never one shared by all
    (five strangers' failures must not lock everyone out of their passkeys)."""
    return f"(passkey) {ip}"


@dataclass(frozen=True, slots=True)
class KeyView:
    """One passkey as its list shows it."""

    credential_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _ip(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def _answer(request: Request) -> str | None:
    body = await request.body()
    return body.decode("utf-8", "replace") if len(body) <= MAX_ANSWER else None


class _Passkeys:
    def __init__(self, ctx: Context) -> None:
        self.rp = ceremony.RelyingParty.of(ctx.settings.public_url)

    # -- signed in: register, list, remove ------------------------------------------------------

    async def page(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)

        def listed() -> list[KeyView]:
            with gate.db.transaction() as session:
                return [
                    KeyView(k.credential_id, k.name, k.created_at, k.last_used_at)
                    for k in keys.keys_of(session, who.staff_id)
                ]

        found = await run_in_threadpool(listed)
        return gate.page(request, "staff/passkeys.html", {"keys": found}, script=True)

    async def register_options(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)

        def options() -> str:
            with gate.db.transaction() as session:
                existing = [k.credential_id for k in keys.keys_of(session, who.staff_id)]
                made = ceremony.registration_options(
                    self.rp,
                    rp_name="syncd staff console",
                    user_name=who.email,
                    user_id=hashlib.sha256(f"staff:{who.staff_id}".encode()).hexdigest().encode()[:32],
                    existing=existing,
                )
                keys.remember_challenge(
                    session, made.challenge_text, keys.REGISTER, staff_id=who.staff_id, now=gate.clock()
                )
            return made.json

        return Response(await run_in_threadpool(options), media_type="application/json")

    async def register(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)
        raw = await _answer(request)
        answer = ceremony.read_answer(raw) if raw is not None else None
        if answer is None:
            return JSONResponse({"ok": False}, status_code=400)

        def verify() -> bool:
            now = gate.clock()
            with gate.db.transaction() as session:
                used = keys.use_challenge(session, answer.challenge_text, keys.REGISTER, now=now)
            if used is None or used.staff_id != who.staff_id:
                return False
            made = ceremony.verify_registration(self.rp, answer)
            if made is None:
                return False
            with gate.db.transaction() as session:
                if session.get(StaffPasskey, made.credential_id) is not None:
                    return False
                keys.add(session, who.staff_id, made.credential_id, made.public_key, made.sign_count, now=now)
                audit.record(session, who, "passkey.added", now=now, target=made.credential_id[-12:])
            return True

        ok = await run_in_threadpool(verify)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 400)

    async def remove(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)
        fields = form_of(request)
        credential = fields.get("credential", "")[:400]
        if fields.get("confirm") != "yes":
            question = {
                "title": "Remove this passkey?",
                "text": "It will no longer sign you in; your password (and code) still will.",
                "action": "/staff/passkeys/remove",
                "fields": {"credential": credential},
                "back": "/staff/passkeys",
            }
            return gate.page(request, "staff/confirm.html", question)

        def forget() -> bool:
            now = gate.clock()
            with gate.db.transaction() as session:
                gone = keys.remove(session, who.staff_id, credential)
                if gone:
                    audit.record(session, who, "passkey.removed", now=now, target=credential[-12:])
                return gone

        if not await run_in_threadpool(forget):
            return gate.message(request, 404, "Not found", "You have no such passkey.")
        return RedirectResponse("/staff/passkeys", status_code=303)

    # -- signed out: sign in with a passkey -----------------------------------------------------

    async def sign_in_options(self, request: Request) -> Response:
        gate = gate_of(request)
        if not gate.csrf.verify(request, ACTION, request.headers.get(CSRF_HEADER)):
            return JSONResponse({"error": "expired"}, status_code=403)

        ip = _ip(request)

        def options() -> str | None:
            """The options, or None when the address is over its limit (no challenge stored)."""
            made = ceremony.authentication_options(self.rp)
            now = gate.clock()
            with gate.db.transaction() as session:
                if sessions.limited(session, _counted_as(ip), ip, now=now):
                    return None
                keys.remember_challenge(session, made.challenge_text, keys.SIGN_IN, staff_id=None, now=now)
            return made.json

        made = await run_in_threadpool(options)
        if made is None:
            return JSONResponse({"error": "too many failed sign-ins"}, status_code=429)
        return Response(made, media_type="application/json")

    def _sign_in(self, gate: StaffGate, answer: ceremony.Answer | None, ip: str) -> tuple[str, str | None]:
        """``(outcome, cookie)``: outcome is ``limited``, ``wrong`` or ``in``."""
        now = gate.clock()
        with gate.db.transaction() as session:
            if sessions.limited(session, _counted_as(ip), ip, now=now):
                return "limited", None
            key = session.get(StaffPasskey, answer.credential_id) if answer is not None else None
            found = (key.public_key, key.sign_count, key.staff_id) if key is not None else None
            used = (
                keys.use_challenge(session, answer.challenge_text, keys.SIGN_IN, now=now)
                if answer is not None
                else None
            )
        count = None
        if answer is not None and found is not None and used is not None:
            count = ceremony.verify_authentication(self.rp, answer, found[0], found[1])
        with gate.db.transaction() as session:
            user = session.get(StaffUser, found[2]) if found is not None else None
            if count is None or answer is None or user is None or user.disabled_at is not None:
                sessions.failed(session, _counted_as(ip), ip, now=now)
                return "wrong", None
            key = session.get(StaffPasskey, answer.credential_id)
            if key is None:
                return "wrong", None
            key.sign_count = count
            key.last_used_at = now
            cookie = sessions.open_session(session, user.id, totp_pending=False, now=now)
            audit.record(session, None, "sign_in.passkey", now=now, email=user.email)
            return "in", cookie

    async def sign_in(self, request: Request) -> Response:
        gate = gate_of(request)
        raw = await _answer(request)
        if not gate.csrf.verify(request, ACTION, request.headers.get(CSRF_HEADER)) or raw is None:
            return JSONResponse({"ok": False}, status_code=403)
        answer = ceremony.read_answer(raw)
        outcome, cookie = await run_in_threadpool(self._sign_in, gate, answer, _ip(request))
        if outcome == "limited":
            return JSONResponse({"ok": False, "error": "too many failed sign-ins"}, status_code=429)
        if cookie is None:
            return JSONResponse({"ok": False}, status_code=400)
        response = JSONResponse({"ok": True, "next": "/staff"})
        set_session_cookie(response, request, cookie)
        return response


def passkey_routes(ctx: Context) -> list[BaseRoute]:
    """The passkey list and ceremonies (guarded), and the two public sign-in endpoints."""
    p = _Passkeys(ctx)
    return [
        Route("/staff/passkey/options", p.sign_in_options, methods=["POST"], name="staff_passkey_options"),
        Route("/staff/passkey/sign-in", p.sign_in, methods=["POST"], name="staff_passkey_sign_in"),
        staff_route("/staff/passkeys", p.page, roles=EVERYONE),
        staff_route(
            "/staff/passkeys/options", p.register_options, roles=EVERYONE, methods=["POST"], csrf_header=True
        ),
        staff_route(
            "/staff/passkeys/register", p.register, roles=EVERYONE, methods=["POST"], csrf_header=True
        ),
        staff_route("/staff/passkeys/remove", p.remove, roles=EVERYONE, methods=["POST"]),
    ]
