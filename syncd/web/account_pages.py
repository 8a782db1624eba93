"""What every customer account page shares: the session and sign-in cookies, the page and message
renderers, CSRF-checked forms, and the wrappers that send a signed-out person to sign in."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from syncd.domain.recurring import RecurAction
from syncd.ports.account import AccountBackend
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Branding
from syncd.web.csrf import FIELD, Csrf
from syncd.web.portal import brand_context, branded
from syncd.web.security import content_security_policy
from syncd.web.templating import Templating

Fields = dict[str, str | list[str]]  # a POSTed form's fields (``invoice`` may repeat)
SignedHandler = Callable[[Request, Fields, str], Awaitable[Response]]
SessionHandler = Callable[[Request, str], Awaitable[Response]]

ACTION = "account"
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
PHONE = re.compile(r"[0-9+()\-. ]{4,30}")
SID = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_JSON = 64 * 1024
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")


def cookie_name(request: Request, name: str) -> str:
    return f"__Host-syncd_{name}" if request.url.scheme == "https" else f"syncd_{name}"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def recur_action(value: str) -> RecurAction | None:
    try:
        return RecurAction(value)
    except ValueError:
        return None


def request_id_of(fields: Fields) -> str:
    """The page view's form id; a fresh one when it is missing or malformed."""
    value = fields.get("request")
    return value if isinstance(value, str) and REQUEST_ID.fullmatch(value) else secrets.token_urlsafe(16)


class AccountPages:
    """The account pages' shared state and helpers; the pages themselves subclass it."""

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
        value = request.cookies.get(cookie_name(request, "account"))
        return value if value is not None and SID.fullmatch(value) else None

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
        set_cookie(response, request, "account", sid, None)
        response.delete_cookie(cookie_name(request, "signin"), path="/")
        if old is not None:
            # No fixation: whatever id the browser carried before is ended, never upgraded.
            response.background = BackgroundTask(self.backend.sign_out, old, False)
        return response

    def to_sign_in(self, request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/account/sign-in", status_code=303)
