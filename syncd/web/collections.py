"""The collector pages, phone first: ``/staff/c/{company_id}/collect`` lists the overdue accounts a
collector owns (all of them for the owner and the bookkeeper), and each account's page shows what
is owed with its history and takes a note, a call, a promise or an offline payment (CSRF on every
POST). The signed-in member comes only from ``request.scope[SCOPE_KEY]``, put there by the
console's guard; a collector reaches only the accounts they own, a bookkeeper only reads."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncd.domain.collections import CallOutcome, OfflineMethod
from syncd.domain.staff import SCOPE_KEY, StaffPrincipal, StaffRole
from syncd.errors import PermanentError
from syncd.ports.collections import AccountDetail, CollectionsDesk
from syncd.web.csrf import FIELD, Csrf
from syncd.web.templating import Templating

PREFIX = "/staff/c/{company_id}/collect"
READERS = frozenset({StaffRole.OWNER, StaffRole.BOOKKEEPER, StaffRole.COLLECTOR})
ACTORS = frozenset({StaffRole.OWNER, StaffRole.COLLECTOR})
# The roles each route allows (the console's guard may check them before the page does).
ROLES: Mapping[str, frozenset[StaffRole]] = {
    "collect_list": READERS,
    "collect_account": READERS,
    "collect_record": ACTORS,
}
ACTIONS = ("note", "call", "promise", "payment")
DONE = {
    "note": "Note saved.",
    "call": "Call recorded.",
    "promise": "Promise recorded: reminders pause until that date.",
    "payment": "Payment recorded: it is being written to QuickBooks.",
}
MAX_FIELDS = 10


class _Pages:
    def __init__(self, desk: CollectionsDesk, templates: Templating, csrf: Csrf, action: str | None) -> None:
        self.desk = desk
        self.templates = templates
        self.csrf = csrf
        self.action = action

    def _who(
        self, request: Request, allowed: frozenset[StaffRole]
    ) -> tuple[StaffPrincipal, StaffRole] | None:
        principal = request.scope.get(SCOPE_KEY)
        if not isinstance(principal, StaffPrincipal):
            return None
        role = principal.role_in(request.path_params["company_id"])
        return (principal, role) if role in allowed else None

    def _message(self, request: Request, title: str, text: str, status: int) -> Response:
        context = {"root": request.scope.get("root_path", ""), "title": title, "text": text, "back": None}
        return self.templates.response("portal/message.html", context, status_code=status)

    def _forbidden(self, request: Request) -> Response:
        return self._message(request, "Not yours", "This page is not open to you.", 403)

    async def list(self, request: Request) -> Response:
        who = self._who(request, READERS)
        if who is None:
            return self._forbidden(request)
        principal, role = who
        company_id = request.path_params["company_id"]
        mine = principal.email if role is StaffRole.COLLECTOR else None
        accounts = await run_in_threadpool(self.desk.accounts, company_id, mine)
        context = {
            "root": request.scope.get("root_path", ""),
            "company_id": company_id,
            "accounts": accounts,
            "mine": mine is not None,
            "me": principal.email,
        }
        return self.templates.response("collect/list.html", context)

    async def _detail(
        self, request: Request, principal: StaffPrincipal, role: StaffRole
    ) -> AccountDetail | None:
        detail = await run_in_threadpool(
            self.desk.account, request.path_params["company_id"], request.path_params["customer_id"]
        )
        if detail is None:
            return None
        if role is StaffRole.COLLECTOR and (detail.line.collector or "") != principal.email.lower():
            return None  # another collector's account, or nobody's: as if it did not exist
        return detail

    def _action(self, request: Request) -> str:
        """One token serves every form of an account's page (each form is the same member acting
        on the same account; a token per form would each want a cookie of its own). Mounted in
        the console, the console's one staff action (its guard checks the token first)."""
        if self.action is not None:
            return self.action
        return f"collect:{request.path_params['company_id']}:{request.path_params['customer_id']}"

    async def account(self, request: Request) -> Response:
        who = self._who(request, READERS)
        if who is None:
            return self._forbidden(request)
        detail = await self._detail(request, *who)
        if detail is None:
            return self._message(request, "Not found", "There is no such account among yours.", 404)
        return self._page(request, detail, who[1], done=DONE.get(request.query_params.get("ok", "")))

    def _page(
        self,
        request: Request,
        detail: AccountDetail,
        role: StaffRole,
        *,
        done: str | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        acts = role in ACTORS
        issued = self.csrf.issue(request, self._action(request)) if acts else None
        context = {
            "root": request.scope.get("root_path", ""),
            "company_id": request.path_params["company_id"],
            "a": detail,
            "acts": acts,
            "done": done,
            "error": error,
            "csrf_field": FIELD,
            "csrf_token": issued.token if issued else "",
            "request_id": secrets.token_urlsafe(16),
            "outcomes": [o.value for o in CallOutcome],
            "methods": [m.value for m in OfflineMethod],
        }
        response = self.templates.response("collect/account.html", context, status_code=status)
        if issued is not None:
            self.csrf.apply(response, request, issued)
        return response

    async def record(self, request: Request) -> Response:
        who = self._who(request, ACTORS)
        if who is None:
            return self._forbidden(request)
        principal, role = who
        kind = request.path_params["action"]
        if kind not in ACTIONS:
            return self._message(request, "Not found", "There is no such form.", 404)
        async with request.form(max_files=0, max_fields=MAX_FIELDS) as form:
            fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        detail = await self._detail(request, principal, role)
        if detail is None:
            return self._message(request, "Not found", "There is no such account among yours.", 404)
        if not self.csrf.verify(request, self._action(request), fields.get(FIELD)):
            return self._page(request, detail, role, error="The form expired: enter it again.", status=403)
        try:
            await run_in_threadpool(self._apply, request, kind, fields, principal.email)
        except PermanentError as exc:
            return self._page(request, detail, role, error=str(exc), status=400)
        url = request.url_for(
            "collect_account",
            company_id=request.path_params["company_id"],
            customer_id=request.path_params["customer_id"],
        )
        return RedirectResponse(f"{url.path}?ok={kind}", status_code=303)

    def _apply(self, request: Request, kind: str, fields: Mapping[str, str], by: str) -> None:
        company_id, customer_id = request.path_params["company_id"], request.path_params["customer_id"]
        if kind == "note":
            self.desk.note(company_id, customer_id, fields.get("text", ""), by=by)
        elif kind == "call":
            invoice = fields.get("invoice_id") or None
            self.desk.call(
                company_id,
                customer_id,
                _choice(CallOutcome, fields, "outcome"),
                fields.get("text", ""),
                by=by,
                invoice_id=invoice,
            )
        elif kind == "promise":
            self.desk.promise(
                company_id, customer_id, on=_date(fields.get("on", "")), amount=_amount(fields), by=by
            )
        else:
            self.desk.payment(
                company_id,
                customer_id,
                fields.get("invoice_id", ""),
                method=_choice(OfflineMethod, fields, "method"),
                amount=_amount(fields),
                reference=fields.get("reference", ""),
                by=by,
                request_id=fields.get("request_id", ""),
            )


Choice = TypeVar("Choice", CallOutcome, OfflineMethod)


def _choice(kind: type[Choice], fields: Mapping[str, str], name: str) -> Choice:
    try:
        return kind(fields.get(name, ""))
    except ValueError:
        raise PermanentError(f"choose a {name} from the list") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PermanentError("the date must be a date like 2026-12-01") from None


def _amount(fields: Mapping[str, str]) -> Decimal:
    try:
        amount = Decimal(fields.get("amount", "").replace(",", "").strip())
    except InvalidOperation:
        raise PermanentError("the amount must be a number like 120.00") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -3:  # type: ignore[operator]
        raise PermanentError("the amount must be a number like 120.00")
    return amount


def collect_routes(
    desk: CollectionsDesk, templates: Templating, csrf: Csrf, *, action: str | None = None
) -> list[Route]:
    """The collector pages; mount them behind the console's guard (see ``ROLES``), with its CSRF
    and its ``action`` so one token passes both the guard and the page."""
    pages = _Pages(desk, templates, csrf, action)
    return [
        Route(PREFIX, pages.list, methods=["GET"], name="collect_list"),
        Route(PREFIX + "/{customer_id}", pages.account, methods=["GET"], name="collect_account"),
        Route(PREFIX + "/{customer_id}/{action}", pages.record, methods=["POST"], name="collect_record"),
    ]
