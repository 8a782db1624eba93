"""The customer account's sign-in pages: the emailed link (asked for, confirmed, used), the invoice
link, passkeys (JSON, CSRF in a header) and the account's help page and script.
"""

from __future__ import annotations

import hashlib
import secrets

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from syncd.ports.account import SignIn
from syncd.ports.account_text import TEXT
from syncd.web.account_pages import (
    ACTION,
    EMAIL,
    MAX_JSON,
    SID,
    AccountPages,
    Fields,
    cookie_name,
    set_cookie,
)
from syncd.web.templating import PACKAGE_TEMPLATES


class SignInPages(AccountPages):
    """Signing in: by emailed link, invoice link or passkey."""

    # -- sign in ------------------------------------------------------------------------------

    async def sign_in_form(self, request: Request) -> Response:
        return self.page(request, "account/sign_in.html", script=True)

    async def request_link(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return self.expired(request)
        email = str(fields.get("email", "")).strip()
        if not EMAIL.fullmatch(email):
            return self.page(request, "account/sign_in.html", 400, script=True, error=TEXT["email_invalid"])
        nonce = request.cookies.get(cookie_name(request, "signin"))
        if nonce is None or not SID.fullmatch(nonce):
            nonce = secrets.token_urlsafe(32)
        browser = hashlib.sha256(nonce.encode()).hexdigest()
        ip = request.client.host if request.client else ""
        keys = await run_in_threadpool(self.backend.request_link, email, ip, browser)
        # The same page, sent before any email goes out, whether or not the address is known.
        response = self.page(request, "account/check_email.html")
        set_cookie(response, request, "signin", nonce, 15 * 60)
        if keys:
            response.background = BackgroundTask(self.backend.deliver, keys)
        return response

    async def link_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        # A GET never uses the link up: mail scanners open links before people do.
        if not await run_in_threadpool(self.backend.link_valid, token):
            return self.message(request, 404, TEXT["link_invalid_title"], TEXT["link_invalid_text"])
        return self.page(request, "account/confirm.html", token=token)

    async def use_link(self, request: Request) -> Response:
        if await self.form(request) is None:
            return self.expired(request)
        token = request.path_params["token"]
        nonce = request.cookies.get(cookie_name(request, "signin"))
        browser = hashlib.sha256(nonce.encode()).hexdigest() if nonce and SID.fullmatch(nonce) else None
        result, sid = await run_in_threadpool(self.backend.sign_in_with_link, token, browser)
        if result is SignIn.OTHER_BROWSER:
            return self.message(request, 403, TEXT["other_browser_title"], TEXT["other_browser_text"])
        if result is not SignIn.OK or sid is None:
            return self.message(request, 404, TEXT["link_invalid_title"], TEXT["link_invalid_text"])
        return self.signed_in(request, sid, self.sid(request))

    async def from_invoice(self, request: Request) -> Response:
        sid = await run_in_threadpool(self.backend.sign_in_with_invoice, request.path_params["token"])
        if sid is None:
            return self.message(request, 404, TEXT["link_invalid_title"], TEXT["link_invalid_text"])
        return self.signed_in(request, sid, self.sid(request))

    # -- passkeys (JSON, CSRF in a header) -----------------------------------------------------

    def _json_ok(self, request: Request) -> bool:
        return self.csrf.verify(request, ACTION, request.headers.get("x-csrf-token"))

    async def passkey_options(self, request: Request) -> Response:
        if not self._json_ok(request):
            return JSONResponse({"error": "expired"}, status_code=403)
        register = request.path_params.get("purpose") == "register"
        sid = self.sid(request) if register else None
        if register and sid is None:
            return JSONResponse({"error": "signed_out"}, status_code=401)
        options = await run_in_threadpool(self.backend.passkey_options, sid)
        if options is None:
            return JSONResponse({"error": "signed_out"}, status_code=401)
        return Response(options, media_type="application/json")

    async def _body(self, request: Request) -> str | None:
        body = await request.body()
        return body.decode("utf-8", "replace") if len(body) <= MAX_JSON else None

    async def passkey_register(self, request: Request) -> Response:
        sid = self.sid(request)
        body = await self._body(request)
        if not self._json_ok(request) or sid is None or body is None:
            return JSONResponse({"ok": False}, status_code=403)
        ok = await run_in_threadpool(self.backend.passkey_register, sid, body)
        return JSONResponse({"ok": ok}, status_code=200 if ok else 400)

    async def passkey_sign_in(self, request: Request) -> Response:
        body = await self._body(request)
        if not self._json_ok(request) or body is None:
            return JSONResponse({"ok": False}, status_code=403)
        sid = await run_in_threadpool(self.backend.passkey_sign_in, body)
        if sid is None:
            return JSONResponse({"ok": False}, status_code=400)
        response = JSONResponse({"ok": True, "next": f"{request.scope.get('root_path', '')}/account"})
        set_cookie(response, request, "account", sid, None)
        old = self.sid(request)
        if old is not None:
            response.background = BackgroundTask(self.backend.sign_out, old, False)
        return response

    async def passkeys_page(self, request: Request) -> Response:
        sid = self.sid(request)
        keys = await run_in_threadpool(self.backend.passkeys, sid) if sid else None
        if keys is None:
            return self.to_sign_in(request)
        return self.page(request, "account/passkeys.html", script=True, keys=keys)

    async def switch(self, request: Request) -> Response:
        sid = self.sid(request)
        choices = await run_in_threadpool(self.backend.choices, sid) if sid else None
        if not choices:
            return self.to_sign_in(request)
        return self.page(request, "account/choose.html", choices=choices)

    async def passkey_remove(self, request: Request, fields: Fields, sid: str) -> Response:
        await run_in_threadpool(self.backend.passkey_remove, sid, str(fields.get("credential", "")))
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account/passkeys", status_code=303)

    async def help(self, request: Request) -> Response:
        return self.page(request, "account/help.html")

    async def script(self, request: Request) -> Response:
        body = (PACKAGE_TEMPLATES / "static" / "account.js").read_text(encoding="utf-8")
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})
