"""Autopay's pages: ``/account/autopay`` (signed in: what would be charged and when, enroll with
the authorisation text, turn off) and ``/autopay/{token}``, a notice's one-click link (GET shows
what it will do, POST with CSRF does it). Phone first, no script."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.ports.account_text import TEXT
from syncd.ports.autopay import AutopayBackend, Enrolled, LinkView
from syncd.ports.portal import Branding
from syncd.web.account_pages import ACTION
from syncd.web.csrf import FIELD, Csrf
from syncd.web.portal import brand_context, branded, consenting
from syncd.web.templating import Templating

_SID = re.compile(r"[A-Za-z0-9_-]{43}")
_CAP = re.compile(r"\d{1,9}(\.\d{1,3})?")
_ENROLL_ERRORS = {
    Enrolled.NOT_OFFERED: "Automatic payments are not offered by this business.",
    Enrolled.NOT_FOUND: "Choose one of your saved payment methods.",
    Enrolled.BAD_CAP: "The limit must be an amount above zero, like 500.00, or left empty.",
    Enrolled.ON_HOLD: "Automatic payments can't be turned on while your account is on hold for "
    "unpaid invoices. Pay what is due and they can be turned on again.",
}


def _sid(request: Request) -> str | None:
    name = "__Host-syncd_account" if request.url.scheme == "https" else "syncd_account"
    value = request.cookies.get(name)
    return value if value is not None and _SID.fullmatch(value) else None


def parse_cap(raw: str) -> Decimal | bool | None:
    """The per-charge limit typed, None for none, False for something that is not an amount."""
    text = raw.strip().replace(",", "")
    if not text:
        return None
    if not _CAP.fullmatch(text):
        return False
    try:
        return Decimal(text)
    except InvalidOperation:
        return False


class _Pages:
    def __init__(self, backend: AutopayBackend, templates: Templating, csrf: Csrf) -> None:
        self.backend = backend
        self.templates = templates
        self.csrf = csrf

    def _render(
        self,
        request: Request,
        name: str,
        action: str,
        status: int = 200,
        brand: Branding | None = None,
        **context: object,
    ) -> Response:
        issued = self.csrf.issue(request, action)
        full: dict[str, object] = {
            "root": request.scope.get("root_path", ""),
            "t": TEXT,
            "csrf_field": FIELD,
            "csrf_token": issued.token,
            "script": False,
            **(branded(brand) if brand is not None else {"brand": brand_context(None)}),
            **context,
        }
        response = self.templates.response(name, full, status_code=status)
        self.csrf.apply(response, request, issued)
        return response

    def _message(self, request: Request, status: int, title: str, text: str) -> Response:
        return self._render(request, "account/message.html", ACTION, status, title=title, text=text)

    def _to_sign_in(self, request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account/sign-in", status_code=303)

    async def _fields(self, request: Request, action: str) -> dict[str, str] | None:
        async with request.form(max_files=0, max_fields=10) as form:
            fields = {k: str(v)[:200] for k, v in form.items() if isinstance(v, str)}
        return fields if self.csrf.verify(request, action, fields.get(FIELD)) else None

    # -- enrollment -----------------------------------------------------------------------------

    async def page(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        sid = _sid(request)
        view = await run_in_threadpool(self.backend.page, sid) if sid else None
        if view is None:
            return self._to_sign_in(request)
        done = request.query_params.get("done", "")
        return self._render(
            request,
            "account/autopay.html",
            ACTION,
            status,
            brand=view.branding,
            view=view,
            error=error,
            done=done if done in ("on", "off") else None,
        )

    async def enroll(self, request: Request) -> Response:
        fields = await self._fields(request, ACTION)
        if fields is None:
            return self._message(request, 403, TEXT["expired_title"], TEXT["expired_text"])
        sid = _sid(request)
        if sid is None:
            return self._to_sign_in(request)
        if fields.get("agree") != "1":
            return await self.page(request, "Tick the box to agree to the authorisation.", 400)
        cap = parse_cap(fields.get("cap", ""))
        if cap is False:
            return await self.page(request, _ENROLL_ERRORS[Enrolled.BAD_CAP], 400)
        who = consenting(request)
        result = await run_in_threadpool(
            self.backend.enroll,
            sid,
            fields.get("method", "")[:64],
            cap if isinstance(cap, Decimal) else None,
            who.ip,
            who.user_agent,
        )
        if result is not Enrolled.DONE:
            return await self.page(request, _ENROLL_ERRORS[result], 400)
        return RedirectResponse(
            f"{request.scope.get('root_path', '')}/account/autopay?done=on", status_code=303
        )

    async def turn_off(self, request: Request) -> Response:
        fields = await self._fields(request, ACTION)
        if fields is None:
            return self._message(request, 403, TEXT["expired_title"], TEXT["expired_text"])
        sid = _sid(request)
        if sid is None or not await run_in_threadpool(self.backend.turn_off, sid):
            return self._to_sign_in(request)
        return RedirectResponse(
            f"{request.scope.get('root_path', '')}/account/autopay?done=off", status_code=303
        )

    # -- notice links ---------------------------------------------------------------------------

    def _link_page(
        self, request: Request, view: LinkView, status: int = 200, error: str | None = None
    ) -> Response:
        token = request.path_params["token"]
        return self._render(
            request,
            "account/autopay_link.html",
            f"autopay:{token}",
            status,
            brand=view.branding,
            view=view,
            token=token,
            error=error,
        )

    def _unknown(self, request: Request) -> Response:
        return self._message(request, 404, TEXT["link_invalid_title"], TEXT["link_invalid_text"])

    async def link(self, request: Request) -> Response:
        # A GET never acts: mail scanners open links before people do.
        view = await run_in_threadpool(self.backend.link, request.path_params["token"])
        return self._unknown(request) if view is None else self._link_page(request, view)

    async def use_link(self, request: Request) -> Response:
        token = request.path_params["token"]
        fields = await self._fields(request, f"autopay:{token}")
        if fields is None:
            view = await run_in_threadpool(self.backend.link, token)
            if view is None:
                return self._unknown(request)
            return self._link_page(request, view, 403, TEXT["card_page_expired"])
        view = await run_in_threadpool(self.backend.use_link, token)
        return self._unknown(request) if view is None else self._link_page(request, view)


def autopay_routes(backend: AutopayBackend, templates: Templating, csrf: Csrf) -> list[BaseRoute]:
    p = _Pages(backend, templates, csrf)
    return [
        Route("/account/autopay", p.page, methods=["GET"], name="account_autopay"),
        Route("/account/autopay", p.enroll, methods=["POST"], name="account_autopay_enroll"),
        Route("/account/autopay/off", p.turn_off, methods=["POST"], name="account_autopay_off"),
        Route("/autopay/{token}", p.link, methods=["GET"], name="autopay_link"),
        Route("/autopay/{token}", p.use_link, methods=["POST"], name="autopay_link_use"),
    ]
