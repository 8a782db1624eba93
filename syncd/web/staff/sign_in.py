"""Signing in and out of the console: email and password, then a TOTP code when the person has
one (each code good once); replacing a one-time password; enrolling an authenticator app.
Passkeys are ``syncd.web.staff.passkeys``.

Every answer to a wrong email or password is the same one line after the same argon2 work, so
the form tells nothing about who is on the roster. Five failures for an email (or twenty from an
address) within 15 minutes make the form answer 429 until the window has passed.
"""

from __future__ import annotations

import pyotp
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.errors import PermanentError
from syncd.secrets import SecretBox
from syncd.store import staff as roster
from syncd.store import staff_audit as audit
from syncd.store import staff_sessions as sessions
from syncd.web.staff.guard import (
    EVERYONE,
    StaffGate,
    clear_session_cookie,
    cookie_name,
    form_of,
    gate_of,
    principal_of,
    set_session_cookie,
    staff_route,
)

ISSUER = "syncd"
TOO_MANY = "Too many failed sign-ins: wait 15 minutes, or ask an owner to run `syncd staff reset`."
WRONG = "Wrong email or password."


def _ip(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


class _SignIn:
    def __init__(self, box: SecretBox) -> None:
        self.box = box

    async def form(self, request: Request) -> Response:
        return gate_of(request).page(request, "staff/sign_in.html", {"error": None, "email": ""}, script=True)

    def _check(self, gate: StaffGate, email: str, password: str, ip: str) -> tuple[str, str | None]:
        """``(outcome, cookie)``: outcome is ``limited``, ``wrong``, ``totp`` or ``in``."""
        now = gate.clock()
        with gate.db.transaction() as session:
            if sessions.limited(session, email, ip, now=now):
                return "limited", None
            user = roster.find(session, email)
            usable = user is not None and user.disabled_at is None
            ok = roster.check_password(user.password_hash if usable and user else None, password)
            if not ok or user is None:
                sessions.failed(session, email, ip, now=now)
                return "wrong", None
            cookie = sessions.open_session(session, user.id, totp_pending=user.totp_confirmed, now=now)
            audit.record(session, None, "sign_in.password", now=now, email=user.email)
            return ("totp" if user.totp_confirmed else "in"), cookie

    async def submit(self, request: Request) -> Response:
        gate = gate_of(request)
        fields = await gate.checked_form(request)
        if fields is None:
            return gate.message(request, 403, "Form expired", "Reload the page and try again.")
        email = roster.normal_email(fields.get("email", ""))[:320]
        password = fields.get("password", "")[:1000]
        outcome, cookie = await run_in_threadpool(self._check, gate, email, password, _ip(request))
        if outcome == "limited":
            return gate.page(
                request, "staff/sign_in.html", {"error": TOO_MANY, "email": email}, status_code=429
            )
        if cookie is None:
            return gate.page(request, "staff/sign_in.html", {"error": WRONG, "email": email}, status_code=400)
        response = RedirectResponse("/staff/totp" if outcome == "totp" else "/staff", status_code=303)
        set_session_cookie(response, request, cookie)
        return response

    async def totp_form(self, request: Request) -> Response:
        gate = gate_of(request)
        signed = await run_in_threadpool(gate.signed, request)
        if signed is None or not signed.totp_pending:
            return RedirectResponse("/staff/sign-in", status_code=303)
        return gate.page(request, "staff/totp.html", {"error": None})

    def _check_code(self, gate: StaffGate, cookie: str, code: str, ip: str) -> tuple[str, str | None]:
        now = gate.clock()
        with gate.db.transaction() as session:
            opened = sessions.resolve(session, cookie, now=now)
            if opened is None or not opened.totp_pending:
                return "gone", None
            user = opened.user
            if sessions.limited(session, user.email, ip, now=now):
                return "limited", None
            secret = roster.totp_secret(user, self.box)
            if secret is None or not roster.accept_totp(user, secret, code):
                sessions.failed(session, user.email, ip, now=now)
                return "wrong", None
            audit.record(session, None, "sign_in.totp", now=now, email=user.email)
            return "in", sessions.second_factor_done(session, cookie, now=now)

    async def totp_submit(self, request: Request) -> Response:
        gate = gate_of(request)
        fields = await gate.checked_form(request)
        if fields is None:
            return gate.message(request, 403, "Form expired", "Reload the page and try again.")
        cookie = request.cookies.get(cookie_name(request), "")
        code = "".join(ch for ch in fields.get("code", "") if ch.isdigit())[:8]
        outcome, fresh = await run_in_threadpool(self._check_code, gate, cookie, code, _ip(request))
        if outcome == "gone":
            return RedirectResponse("/staff/sign-in", status_code=303)
        if outcome == "limited":
            return gate.page(request, "staff/totp.html", {"error": TOO_MANY}, status_code=429)
        if fresh is None:
            return gate.page(request, "staff/totp.html", {"error": "Wrong code."}, status_code=400)
        response = RedirectResponse("/staff", status_code=303)
        set_session_cookie(response, request, fresh)
        return response

    async def sign_out(self, request: Request) -> Response:
        gate = gate_of(request)
        cookie = request.cookies.get(cookie_name(request), "")
        who = principal_of(request)

        def end() -> None:
            now = gate.clock()
            with gate.db.transaction() as session:
                sessions.revoke(session, cookie, now=now)
                audit.record(session, who, "sign_out", now=now)

        await run_in_threadpool(end)
        response = RedirectResponse("/staff/sign-in", status_code=303)
        clear_session_cookie(response, request)
        return response

    async def password_form(self, request: Request) -> Response:
        return gate_of(request).page(request, "staff/password.html", {"error": None})

    async def password_submit(self, request: Request) -> Response:
        gate = gate_of(request)
        fields = form_of(request)
        who = principal_of(request)
        new, again = fields.get("password", ""), fields.get("again", "")
        if new != again:
            return gate.page(
                request, "staff/password.html", {"error": "The two passwords differ."}, status_code=400
            )

        def change() -> str | None:
            now = gate.clock()
            with gate.db.transaction() as session:
                user = roster.find(session, who.email)
                assert user is not None
                try:
                    roster.set_password(user, new[:1000])
                except PermanentError as exc:
                    return str(exc)
                audit.record(session, who, "password.changed", now=now)
            return None

        problem = await run_in_threadpool(change)
        if problem is not None:
            return gate.page(request, "staff/password.html", {"error": problem}, status_code=400)
        return RedirectResponse("/staff", status_code=303)

    async def enrol_form(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)

        def fresh_secret() -> tuple[str, bool]:
            with gate.db.transaction() as session:
                user = roster.find(session, who.email)
                assert user is not None
                if user.totp_confirmed:
                    return "", True
                secret = roster.totp_secret(user, self.box)
                if secret is None:
                    secret = pyotp.random_base32()
                    roster.seal_totp(user, self.box, secret)
                return secret, False

        secret, confirmed = await run_in_threadpool(fresh_secret)
        uri = pyotp.TOTP(secret).provisioning_uri(name=who.email, issuer_name=ISSUER) if secret else ""
        return gate.page(
            request,
            "staff/totp_enrol.html",
            {"secret": secret, "uri": uri, "confirmed": confirmed, "error": None},
        )

    async def enrol_submit(self, request: Request) -> Response:
        gate = gate_of(request)
        who = principal_of(request)
        code = "".join(ch for ch in form_of(request).get("code", "") if ch.isdigit())[:8]

        def confirm() -> str | None:
            now = gate.clock()
            with gate.db.transaction() as session:
                user = roster.find(session, who.email)
                assert user is not None
                secret = roster.totp_secret(user, self.box)
                if secret is None or not roster.accept_totp(user, secret, code):
                    return secret
                user.totp_confirmed = True
                audit.record(session, who, "totp.enrolled", now=now)
            return None

        left = await run_in_threadpool(confirm)
        if left is not None:
            uri = pyotp.TOTP(left).provisioning_uri(name=who.email, issuer_name=ISSUER)
            context = {
                "secret": left,
                "uri": uri,
                "confirmed": False,
                "error": "Wrong code: try the next one.",
            }
            return gate.page(request, "staff/totp_enrol.html", context, status_code=400)
        return gate.message(request, 200, "Authenticator on", "From now on, signing in asks for its code.")


def sign_in_routes(box: SecretBox) -> list[BaseRoute]:
    """The public sign-in pages and the guarded account pages (sign out, password, TOTP)."""
    s = _SignIn(box)
    return [
        Route("/staff/sign-in", s.form, methods=["GET"], name="staff_sign_in"),
        Route("/staff/sign-in", s.submit, methods=["POST"], name="staff_sign_in_post"),
        Route("/staff/totp", s.totp_form, methods=["GET"], name="staff_totp"),
        Route("/staff/totp", s.totp_submit, methods=["POST"], name="staff_totp_post"),
        staff_route("/staff/sign-out", s.sign_out, roles=EVERYONE, methods=["POST"], temporary_ok=True),
        staff_route("/staff/password", s.password_form, roles=EVERYONE, temporary_ok=True),
        staff_route(
            "/staff/password", s.password_submit, roles=EVERYONE, methods=["POST"], temporary_ok=True
        ),
        staff_route("/staff/authenticator", s.enrol_form, roles=EVERYONE),
        staff_route("/staff/authenticator", s.enrol_submit, roles=EVERYONE, methods=["POST"]),
    ]
