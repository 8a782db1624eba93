"""The customer account pages: sign in by email link, invoice link or passkey; owed, pay several,
history and receipts; contact details; sign out (everywhere).

Every POST checks CSRF. The session cookie is ``__Host-`` over https (plain name on the http demo),
HttpOnly, SameSite=Lax; a sign-in always mints a new session id and ends the one the browser had,
so a planted id never becomes signed in. Passkey pages run one same-origin script, so their CSP
allows ``script-src 'self'``; every other page keeps the portal's ``script-src 'none'``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.domain.recurring import RecurAction
from syncd.errors import PermanentError, ThrottledError, TransientError
from syncd.ports.account import AccountBackend, Change, SignIn
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Branding
from syncd.web.card_request import retry_after
from syncd.web.csrf import FIELD, Csrf
from syncd.web.portal import brand_context, branded, consenting, pdf_response, to_stripe
from syncd.web.security import content_security_policy
from syncd.web.templating import PACKAGE_TEMPLATES, Templating

Fields = dict[str, str | list[str]]  # a POSTed form's fields (``invoice`` may repeat)
SignedHandler = Callable[[Request, Fields, str], Awaitable[Response]]
SessionHandler = Callable[[Request, str], Awaitable[Response]]

ACTION = "account"
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_PHONE = re.compile(r"[0-9+()\-. ]{4,30}")
_SID = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_JSON = 64 * 1024
_REQUEST = re.compile(r"[A-Za-z0-9_-]{16,43}")


def _cookie(request: Request, name: str) -> str:
    return f"__Host-syncd_{name}" if request.url.scheme == "https" else f"syncd_{name}"


def _set(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        _cookie(request, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _recur_action(value: str) -> RecurAction | None:
    try:
        return RecurAction(value)
    except ValueError:
        return None


def _request_id(fields: Fields) -> str:
    """The page view's form id; a fresh one when it is missing or malformed."""
    value = fields.get("request")
    return value if isinstance(value, str) and _REQUEST.fullmatch(value) else secrets.token_urlsafe(16)


class _Pages:
    def __init__(
        self, backend: AccountBackend, templates: Templating, csrf: Csrf, checkout_origin: str
    ) -> None:
        self.backend = backend
        self.templates = templates
        self.csrf = csrf
        self.script_csp = content_security_policy(checkout_origin).replace(
            "script-src 'none'", "script-src 'self'"
        )

    # -- helpers ------------------------------------------------------------------------------

    def sid(self, request: Request) -> str | None:
        value = request.cookies.get(_cookie(request, "account"))
        return value if value is not None and _SID.fullmatch(value) else None

    def page(
        self,
        request: Request,
        name: str,
        status_code: int = 200,
        brand: Branding | None = None,
        script: bool = False,
        **context: object,
    ) -> Response:
        issued = self.csrf.issue(request, ACTION)
        # Pages before an account is chosen know no company: the default look, no theme.
        full: dict[str, object] = {
            "root": request.scope.get("root_path", ""),
            "t": TEXT,
            "csrf_field": FIELD,
            "csrf_token": issued.token,
            "script": script,
            **(branded(brand) if brand is not None else {"brand": brand_context(None)}),
            **context,
        }
        headers = {"Content-Security-Policy": self.script_csp} if script else None
        response = self.templates.response(name, full, status_code=status_code, headers=headers)
        self.csrf.apply(response, request, issued)
        return response

    def message(self, request: Request, status_code: int, title: str, text: str) -> Response:
        return self.page(request, "account/message.html", status_code, title=title, text=text)

    async def form(self, request: Request) -> Fields | None:
        """The POSTed fields when CSRF verifies (``invoice`` may repeat), else None."""
        async with request.form(max_files=0, max_fields=600) as form:
            fields: Fields = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "invoice"}
            fields["invoice"] = [str(v) for v in form.getlist("invoice") if isinstance(v, str)]
            submitted = form.get(FIELD)
        if not self.csrf.verify(request, ACTION, submitted):
            return None
        return fields

    def with_session(self, handler: SessionHandler) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` for a signed-in person, with their session id; anyone else is sent to sign in."""

        async def endpoint(request: Request) -> Response:
            sid = self.sid(request)
            if sid is None:
                return self.to_sign_in(request)
            return await handler(request, sid)

        return endpoint

    def signed(self, handler: SignedHandler) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` behind the check every signed-in POST makes: the CSRF-verified fields and the
        session id, else the answer (the expired page, or sign in)."""

        async def endpoint(request: Request) -> Response:
            fields = await self.form(request)
            if fields is None:
                return self.expired(request)
            sid = self.sid(request)
            if sid is None:
                return self.to_sign_in(request)
            return await handler(request, fields, sid)

        return endpoint

    def not_found(self, request: Request) -> Response:
        return self.message(request, 404, TEXT["not_found_title"], TEXT["not_found_text"])

    def expired(self, request: Request) -> Response:
        return self.message(request, 403, TEXT["expired_title"], TEXT["expired_text"])

    def signed_in(self, request: Request, sid: str, old: str | None) -> Response:
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/account", status_code=303)
        _set(response, request, "account", sid, None)
        response.delete_cookie(_cookie(request, "signin"), path="/")
        if old is not None:
            # No fixation: whatever id the browser carried before is ended, never upgraded.
            response.background = BackgroundTask(self.backend.sign_out, old, False)
        return response

    def to_sign_in(self, request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account/sign-in", status_code=303)

    # -- sign in ------------------------------------------------------------------------------

    async def sign_in_form(self, request: Request) -> Response:
        return self.page(request, "account/sign_in.html", script=True)

    async def request_link(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return self.expired(request)
        email = str(fields.get("email", "")).strip()
        if not _EMAIL.fullmatch(email):
            return self.page(request, "account/sign_in.html", 400, script=True, error=TEXT["email_invalid"])
        nonce = request.cookies.get(_cookie(request, "signin"))
        if nonce is None or not _SID.fullmatch(nonce):
            nonce = secrets.token_urlsafe(32)
        browser = hashlib.sha256(nonce.encode()).hexdigest()
        ip = request.client.host if request.client else ""
        keys = await run_in_threadpool(self.backend.request_link, email, ip, browser)
        # The same page, sent before any email goes out, whether or not the address is known.
        response = self.page(request, "account/check_email.html")
        _set(response, request, "signin", nonce, 15 * 60)
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
        nonce = request.cookies.get(_cookie(request, "signin"))
        browser = hashlib.sha256(nonce.encode()).hexdigest() if nonce and _SID.fullmatch(nonce) else None
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

    # -- the account --------------------------------------------------------------------------

    async def account(self, request: Request, sid: str) -> Response:
        view = await run_in_threadpool(self.backend.account, sid)
        if view is None:
            choices = await run_in_threadpool(self.backend.choices, sid)
            if not choices:
                return self.to_sign_in(request)
            return self.page(request, "account/choose.html", choices=choices)
        done = request.query_params.get("done", "")
        notice = TEXT.get(f"notice_{done}")
        notice_kind = "warning" if done == "updating" else "success"
        # Names each form of this page view, so a form sent twice is one change, a new view another.
        nonce = secrets.token_urlsafe(16)
        return self.page(
            request,
            "account/account.html",
            brand=view.branding,
            view=view,
            notice=notice,
            notice_kind=notice_kind,
            request_id=nonce,
        )

    async def recurring_confirm(self, request: Request, sid: str) -> Response:
        """What pausing or cancelling one recurring service does; its button POSTs the choice."""
        action = _recur_action(request.path_params["action"])
        view = await run_in_threadpool(self.backend.account, sid)
        if view is None:
            return self.to_sign_in(request)
        item = next((i for i in view.recurring if i.template_id == request.path_params["template"]), None)
        if (
            action is None
            or item is None
            or not (item.can_cancel if action is RecurAction.CANCEL else item.can_pause)
        ):
            return self.not_found(request)
        return self.page(
            request, "account/recurring_confirm.html", brand=view.branding, item=item, action=action.value
        )

    async def recurring_act(self, request: Request, fields: Fields, sid: str) -> Response:
        action = _recur_action(request.path_params["action"])
        template = request.path_params["template"]
        if action is None or not await run_in_threadpool(
            self.backend.recurring_action, sid, template, action
        ):
            return self.not_found(request)
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/account?done=recurring_{action.value}", status_code=303)

    async def choose(self, request: Request) -> Response:
        fields = await self.form(request)
        sid = self.sid(request)
        if fields is None:
            return self.expired(request)
        company, _, customer = str(fields.get("account", "")).partition("/")
        if sid is None or not await run_in_threadpool(self.backend.choose, sid, company, customer):
            return self.to_sign_in(request)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account", status_code=303)

    async def pay(self, request: Request, fields: Fields, sid: str) -> Response:
        chosen = fields["invoice"]
        assert isinstance(chosen, list)
        try:
            keep = consenting(request) if fields.get("keep") == "1" else None
            url = await run_in_threadpool(self.backend.pay, sid, chosen[:500], keep)
        except PermanentError as exc:
            return self.message(request, 400, TEXT["pay_refused_title"], str(exc))
        except TransientError:
            return self.message(request, 503, TEXT["pay_unavailable_title"], TEXT["pay_unavailable_text"])
        return to_stripe(url, "checkout")

    # -- payment methods ----------------------------------------------------------------------

    async def method_change(self, request: Request, fields: Fields, sid: str) -> Response:
        method_id = str(fields.get("method", ""))[:64]
        remove = request.url.path.endswith("/remove")
        try:
            if remove:
                change = await run_in_threadpool(self.backend.remove_method, sid, method_id)
            else:
                change = await run_in_threadpool(
                    self.backend.make_default, sid, method_id, _request_id(fields)
                )
        except PermanentError as exc:
            return self.message(request, 400, TEXT["method_refused_title"], str(exc))
        if change is Change.NOT_FOUND:
            return self.not_found(request)
        if change is Change.FAILED:
            return self.message(request, 502, TEXT["method_refused_title"], TEXT["method_failed_text"])
        # Told as it is: "removed" only once Stripe has it; while Stripe is away, "being updated".
        done = ("removed" if remove else "default") if change is Change.DONE else "updating"
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account?done={done}", status_code=303)

    async def add_method(self, request: Request, fields: Fields, sid: str) -> Response:
        try:
            who = consenting(request)
            url = await run_in_threadpool(
                self.backend.add_method, sid, _request_id(fields), who.ip, who.user_agent
            )
        except PermanentError as exc:
            return self.message(request, 400, TEXT["method_refused_title"], str(exc))
        except ThrottledError as exc:
            return retry_after(self.message(request, 429, TEXT["method_refused_title"], str(exc)), exc)
        except TransientError:
            return self.message(request, 503, TEXT["pay_unavailable_title"], TEXT["pay_unavailable_text"])
        if url is None:
            return self.to_sign_in(request)
        return to_stripe(url, "setup checkout")

    async def receipt(self, request: Request, sid: str) -> Response:
        receipt = await run_in_threadpool(self.backend.receipt, sid, request.path_params["ref"])
        if receipt is None:
            return self.not_found(request)
        return self.page(request, "account/receipt.html", brand=receipt.branding, receipt=receipt)

    async def invoice_pdf(self, request: Request, sid: str) -> Response:
        document = await run_in_threadpool(self.backend.invoice_pdf, sid, request.path_params["invoice_id"])
        if document is None:
            return self.not_found(request)
        return pdf_response(document.doc_number, document.body)

    async def contact(self, request: Request, fields: Fields, sid: str) -> Response:
        email = str(fields.get("email", "")).strip() or None
        phone = str(fields.get("phone", "")).strip() or None
        if (email and not _EMAIL.fullmatch(email)) or (phone and not _PHONE.fullmatch(phone)):
            return self.message(request, 400, TEXT["contact_invalid_title"], TEXT["contact_invalid_text"])
        texts = consenting(request) if fields.get("texts") == "on" else None
        try:
            updated = await run_in_threadpool(self.backend.update_contact, sid, email, phone, texts)
        except PermanentError as exc:
            return self.message(request, 400, TEXT["contact_invalid_title"], str(exc))
        if not updated:
            return self.to_sign_in(request)
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account?done=contact", status_code=303)

    async def sign_out(self, request: Request) -> Response:
        fields = await self.form(request)
        if fields is None:
            return self.expired(request)
        sid = self.sid(request)
        if sid is not None:
            await run_in_threadpool(self.backend.sign_out, sid, fields.get("everywhere") == "1")
        response = self.message(request, 200, TEXT["signed_out_title"], TEXT["signed_out_text"])
        response.delete_cookie(_cookie(request, "account"), path="/")
        return response

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
        return body.decode("utf-8", "replace") if len(body) <= _MAX_JSON else None

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
        _set(response, request, "account", sid, None)
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


def account_routes(
    backend: AccountBackend, templates: Templating, csrf: Csrf, checkout_origin: str
) -> list[BaseRoute]:
    """The account's routes; mount them at the site root next to the portal."""
    p = _Pages(backend, templates, csrf, checkout_origin)
    return [
        Route("/account", p.with_session(p.account), methods=["GET"], name="account"),
        Route("/account/sign-in", p.sign_in_form, methods=["GET"], name="account_sign_in"),
        Route("/account/sign-in", p.request_link, methods=["POST"], name="account_request_link"),
        Route("/account/link/{token}", p.link_page, methods=["GET"], name="account_link"),
        Route("/account/link/{token}", p.use_link, methods=["POST"], name="account_use_link"),
        Route("/i/{token}/account", p.from_invoice, methods=["GET"], name="account_from_invoice"),
        Route("/account/choose", p.choose, methods=["POST"], name="account_choose"),
        Route("/account/pay", p.signed(p.pay), methods=["POST"], name="account_pay"),
        Route("/account/methods/add", p.signed(p.add_method), methods=["POST"], name="account_add_method"),
        Route(
            "/account/methods/default",
            p.signed(p.method_change),
            methods=["POST"],
            name="account_method_default",
        ),
        Route(
            "/account/methods/remove",
            p.signed(p.method_change),
            methods=["POST"],
            name="account_method_remove",
        ),
        Route(
            "/account/receipts/{ref:path}", p.with_session(p.receipt), methods=["GET"], name="account_receipt"
        ),
        Route(
            "/account/invoices/{invoice_id}/pdf",
            p.with_session(p.invoice_pdf),
            methods=["GET"],
            name="account_pdf",
        ),
        Route("/account/contact", p.signed(p.contact), methods=["POST"], name="account_contact"),
        Route(
            "/account/recurring/{template}/{action}",
            p.with_session(p.recurring_confirm),
            methods=["GET"],
            name="account_recurring",
        ),
        Route(
            "/account/recurring/{template}/{action}",
            p.signed(p.recurring_act),
            methods=["POST"],
            name="account_recurring_act",
        ),
        Route("/account/sign-out", p.sign_out, methods=["POST"], name="account_sign_out"),
        Route(
            "/account/passkeys/{purpose}/options", p.passkey_options, methods=["POST"], name="passkey_options"
        ),
        Route("/account/passkeys/register", p.passkey_register, methods=["POST"], name="passkey_register"),
        Route("/account/passkeys/sign-in", p.passkey_sign_in, methods=["POST"], name="passkey_sign_in"),
        Route(
            "/account/passkeys/remove", p.signed(p.passkey_remove), methods=["POST"], name="passkey_remove"
        ),
        Route("/account/help", p.help, methods=["GET"], name="account_help"),
        Route("/account/passkeys", p.passkeys_page, methods=["GET"], name="account_passkeys"),
        Route("/account/switch", p.switch, methods=["GET"], name="account_switch"),
        Route("/assets/account.js", p.script, methods=["GET"], name="account_js"),
    ]
