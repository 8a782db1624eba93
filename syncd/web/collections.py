"""The collector pages, phone first: ``/staff/c/{company_id}/collect`` lists the overdue accounts a
collector owns (all of them for the owner and the bookkeeper), and each account's page shows what
is owed with its history and takes a note, a call, a promise or an offline payment (CSRF on every
POST). The signed-in member comes only from ``request.scope[SCOPE_KEY]``, put there by the
console's guard; a collector reaches only the accounts they own, a bookkeeper only reads. Each
page is a console page (``gate_of(request).page``: its layout, nav and CSRF token)."""

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
from syncd.web.csrf import FIELD
from syncd.web.staff.guard import ACTION, gate_of

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
    def __init__(self, desk: CollectionsDesk) -> None:
        self.desk = desk

    def _who(
        self, request: Request, allowed: frozenset[StaffRole]
    ) -> tuple[StaffPrincipal, StaffRole] | None:
        principal = request.scope.get(SCOPE_KEY)
        if not isinstance(principal, StaffPrincipal):
            return None
        role = principal.role_in(request.path_params["company_id"])
        return (principal, role) if role in allowed else None

    def _message(self, request: Request, title: str, text: str, status: int) -> Response:
        return gate_of(request).message(request, status, title, text)

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
            "accounts": accounts,
            "mine": mine is not None,
        }
        return gate_of(request).page(request, "collect/list.html", context)

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
        context = {
            "root": request.scope.get("root_path", ""),
            "a": detail,
            "acts": role in ACTORS,
            "done": done,
            "error": error,
            "request_id": secrets.token_urlsafe(16),
            "outcomes": [o.value for o in CallOutcome],
            "methods": [m.value for m in OfflineMethod],
        }
        return gate_of(request).page(request, "collect/account.html", context, status_code=status)

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
        # Behind the console's guard the token was checked already; the page checks it again so
        # that it holds wherever it is mounted (one token serves every staff form).
        if not gate_of(request).csrf.verify(request, ACTION, fields.get(FIELD)):
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


def collect_routes(desk: CollectionsDesk) -> list[Route]:
    """The collector pages; mount them behind the console's guard (see ``ROLES``), in an app whose
    ``state.staff_gate`` renders them and checks their CSRF token."""
    pages = _Pages(desk)
    return [
        Route(PREFIX, pages.list, methods=["GET"], name="collect_list"),
        Route(PREFIX + "/{customer_id}", pages.account, methods=["GET"], name="collect_account"),
        Route(PREFIX + "/{customer_id}/{action}", pages.record, methods=["POST"], name="collect_record"),
    ]
