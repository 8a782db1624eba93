"""The one guard in front of every staff page: who is signed in, their role in the company the
path names, and CSRF on every POST.

``staff_route`` is the only way a staff page is mounted, for this package and for other areas
(collections, reports) alike: it resolves the ``syncd_staff`` cookie to a ``StaffPrincipal`` and
puts it in ``request.scope[SCOPE_KEY]``; a path with ``{company_id}`` answers 404 to a person with
no role there and 403 to a role not in ``roles``; a POST without this form's CSRF token is 403.
The customer side's cookies mean nothing here, and the staff cookie means nothing there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncd.clock import Clock
from syncd.domain.staff import SCOPE_KEY, StaffPrincipal, StaffRole
from syncd.store import staff as roster
from syncd.store import staff_sessions as sessions
from syncd.store.engine import Database
from syncd.web.csrf import FIELD, Csrf
from syncd.web.security import DEFAULT_CHECKOUT_ORIGIN, content_security_policy
from syncd.web.templating import Templating

Endpoint = Callable[[Request], Awaitable[Response]]

NAMES_KEY = "syncd.staff.names"  # the signed-in person's companies by name, for the switcher
ACTION = "staff"  # the CSRF action of every staff form: the session, not the form, is what matters
EVERYONE = frozenset(StaffRole)
ACTORS = frozenset({StaffRole.OWNER, StaffRole.BOOKKEEPER})
READERS = frozenset({StaffRole.OWNER, StaffRole.BOOKKEEPER, StaffRole.READ_ONLY})
OWNERS = frozenset({StaffRole.OWNER})
COLLECTORS = frozenset({StaffRole.OWNER, StaffRole.COLLECTOR})
# Each report in the company nav, in the order of ``syncd.reports.run.NAMES``.
REPORT_LINKS = (
    ("aging", "Aging"),
    ("collections", "Collections"),
    ("dso", "DSO"),
    ("forecast", "Forecast"),
    ("health", "Payment health"),
    ("audits", "Audits"),
)
CSRF_HEADER = "x-csrf-token"  # where a script's POST (the passkey ceremonies) carries the token
# The passkey pages run the one same-origin script syncd serves; every other page runs none.
SCRIPT_CSP = content_security_policy(DEFAULT_CHECKOUT_ORIGIN).replace(
    "script-src 'none'", "script-src 'self'"
)


class StaffCsrf(Csrf):
    """The portal's CSRF scheme under a cookie of the staff side's own, with its own secret."""

    @staticmethod
    def cookie_name(request: Request) -> str:
        return "__Host-syncd_staff_csrf" if request.url.scheme == "https" else "syncd_staff_csrf"


def cookie_name(request: Request) -> str:
    # __Host- pins the cookie to this origin over https; the plain name serves the http demo.
    return "__Host-syncd_staff" if request.url.scheme == "https" else "syncd_staff"


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        cookie_name(request),
        value,
        max_age=int(sessions.ABSOLUTE.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        cookie_name(request), path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


@dataclass(frozen=True, slots=True)
class Signed:
    """A live session: the person, whether TOTP is still owed, whether their password is temporary."""

    principal: StaffPrincipal
    names: dict[str, str]  # company → its name, for the switcher
    cookie: str
    totp_pending: bool
    temporary_password: bool


class StaffGate:
    """What the guard needs, kept on ``app.state.staff_gate``: the store, the clock, the staff
    CSRF and the page renderer (``page``) every staff page, of any area, goes through."""

    def __init__(self, db: Database, clock: Clock, csrf: Csrf, templates: Templating) -> None:
        self.db = db
        self.clock = clock
        self.csrf = csrf
        self.templates = templates

    def signed(self, request: Request) -> Signed | None:
        """The session the request's staff cookie names, if live (two queries)."""
        cookie = request.cookies.get(cookie_name(request))
        if not cookie or len(cookie) > 100:
            return None
        with self.db.transaction() as session:
            opened = sessions.resolve(session, cookie, now=self.clock())
            if opened is None:
                return None
            who, names = roster.principal(session, opened.user)
            return Signed(who, names, cookie, opened.totp_pending, opened.user.password_temporary)

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, object],
        *,
        status_code: int = 200,
        script: bool = False,
    ) -> Response:
        """A staff page: the template with the signed-in person, their companies and a CSRF token;
        ``script``: the page loads the passkey script (its CSP allows same-origin scripts)."""
        issued = self.csrf.issue(request, ACTION)
        principal = request.scope.get(SCOPE_KEY)
        company_id = request.path_params.get("company_id")
        full: dict[str, object] = {
            "me": principal,
            "company_id": company_id,
            "role": principal.role_in(company_id) if principal and company_id else None,
            "companies": sorted(request.scope.get(NAMES_KEY, {}).items(), key=lambda c: (c[1].lower(), c[0])),
            "csrf_field": FIELD,
            "csrf_token": issued.token,
            "script": script,
            "report_links": REPORT_LINKS,
            "report_name": None,
            **context,
        }
        headers = {"Content-Security-Policy": SCRIPT_CSP} if script else None
        response = self.templates.response(name, full, status_code=status_code, headers=headers)
        self.csrf.apply(response, request, issued)
        return response

    def message(self, request: Request, status_code: int, title: str, text: str) -> Response:
        return self.page(
            request, "staff/message.html", {"title": title, "text": text}, status_code=status_code
        )

    async def checked_form(self, request: Request) -> dict[str, str] | None:
        """The POSTed fields when the staff CSRF token verifies, else None."""
        async with request.form(max_files=0, max_fields=50) as form:
            fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        if not self.csrf.verify(request, ACTION, fields.get(FIELD)):
            return None
        return fields


def gate_of(request: Request) -> StaffGate:
    gate: StaffGate = request.app.state.staff_gate
    return gate


def principal_of(request: Request) -> StaffPrincipal:
    """The signed-in person (only inside a ``staff_route``)."""
    who: StaffPrincipal = request.scope[SCOPE_KEY]
    return who


def form_of(request: Request) -> dict[str, str]:
    """The POSTed fields the guard checked (only inside a POST ``staff_route``)."""
    fields: dict[str, str] = request.scope["syncd.staff.form"]
    return fields


def staff_route(
    path: str,
    endpoint: Endpoint,
    *,
    roles: Collection[StaffRole],
    methods: Collection[str] = ("GET",),
    name: str | None = None,
    temporary_ok: bool = False,
    csrf_header: bool = False,
) -> Route:
    """Mount ``endpoint`` at ``path`` behind the guard: signed in (TOTP done), a role in ``roles``
    in the path's ``{company_id}`` (404 with no role there, 403 with another one), the CSRF token
    on POST (then ``form_of(request)`` holds the fields). Without ``{company_id}`` in the path,
    any role in any company will do. ``temporary_ok``: reachable before the one-time password
    was replaced (the page that replaces it). ``csrf_header``: a script's POST, whose token is
    in the ``X-CSRF-Token`` header (the body is the endpoint's to read)."""
    allowed = frozenset(roles)

    async def guarded(request: Request) -> Response:
        gate = gate_of(request)
        signed = await run_in_threadpool(gate.signed, request)
        if signed is None or signed.totp_pending:
            if request.method == "GET":
                owed = signed is not None  # the password was right: the code is what is missing
                return RedirectResponse("/staff/totp" if owed else "/staff/sign-in", status_code=303)
            return gate.message(request, 403, "Signed out", "Your session ended: sign in again.")
        who = signed.principal
        request.scope[SCOPE_KEY] = who
        request.scope[NAMES_KEY] = signed.names
        if signed.temporary_password and not temporary_ok:
            return RedirectResponse("/staff/password", status_code=303)
        company_id = request.path_params.get("company_id")
        if company_id is not None:
            role = who.role_in(str(company_id))
            if role is None:
                return gate.message(request, 404, "Not found", "There is no such page.")
            if role not in allowed:
                return gate.message(
                    request, 403, "Not allowed", f"Your role ({role.value}) cannot do this here."
                )
        elif not any(role in allowed for role in who.roles.values()):
            return gate.message(request, 403, "Not allowed", "None of your roles can open this page.")
        if request.method == "POST" and csrf_header:
            if not gate.csrf.verify(request, ACTION, request.headers.get(CSRF_HEADER)):
                return gate.message(request, 403, "Form expired", "Reload the page and try again.")
        elif request.method == "POST":
            fields = await gate.checked_form(request)
            if fields is None:
                return gate.message(request, 403, "Form expired", "Reload the page and try again.")
            request.scope["syncd.staff.form"] = fields
        return await endpoint(request)

    route = Route(path, guarded, methods=list(methods), name=name)
    route.staff_roles = allowed  # type: ignore[attr-defined]  # what the route-enumerating tests read
    route.staff_csrf_header = csrf_header  # type: ignore[attr-defined]
    return route
