"""The card-on-file link's pages: ``/c/{token}`` shows who asks and why with the consent text,
``POST /c/{token}/start`` (CSRF) records the consent and goes to Stripe's setup page."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncd.errors import PermanentError, ThrottledError, TransientError
from syncd.ports.account_text import TEXT
from syncd.ports.card_request import CardRequestBackend, CardRequestView
from syncd.web.csrf import FIELD, Csrf
from syncd.web.portal import LinkPages, branded, consenting, to_stripe
from syncd.web.templating import Templating


def retry_after(response: Response, exc: ThrottledError) -> Response:
    """A 429 answer with the ``Retry-After`` its limit gave."""
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(int(exc.retry_after))
    return response


class _Pages(LinkPages[CardRequestBackend]):
    def _page(
        self,
        request: Request,
        view: CardRequestView,
        *,
        done: bool = False,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        token = request.path_params["token"]
        issued = self.csrf.issue(request, f"card:{token}") if view.state == "open" and not done else None
        context = {
            "root": request.scope.get("root_path", ""),
            "t": TEXT,
            "token": token,
            "view": view,
            **branded(view.branding),
            "state": view.state,
            "done": done,
            "error": error,
            "csrf_field": FIELD,
            "csrf_token": issued.token if issued else "",
        }
        response = self.templates.response("portal/card_request.html", context, status_code=status)
        if issued is not None:
            self.csrf.apply(response, request, issued)
        return response

    async def _view(self, request: Request) -> CardRequestView | None:
        return await run_in_threadpool(self.backend.view, request.path_params["token"])

    async def show(self, request: Request) -> Response:
        view = await self._view(request)
        if view is None:
            return self.not_found()
        return self._page(request, view)

    async def done(self, request: Request) -> Response:
        view = await self._view(request)
        if view is None:
            return self.not_found()
        return self._page(request, view, done=True)

    async def start(self, request: Request) -> Response:
        token = request.path_params["token"]
        async with request.form(max_files=0, max_fields=5) as form:
            submitted = form.get(FIELD)
        view = await self._view(request)
        if view is None:
            return self.not_found()
        if not self.csrf.verify(request, f"card:{token}", submitted):
            return self._page(request, view, error=TEXT["card_page_expired"], status=403)
        try:
            who = consenting(request)
            url = await run_in_threadpool(self.backend.start, token, ip=who.ip, user_agent=who.user_agent)
        except PermanentError as exc:
            return self._page(request, view, error=str(exc), status=400)
        except ThrottledError as exc:
            return retry_after(self._page(request, view, error=str(exc), status=429), exc)
        except TransientError as exc:
            return self._page(request, view, error=str(exc), status=503)
        return to_stripe(url, "setup checkout")


def card_request_routes(backend: CardRequestBackend, templates: Templating, csrf: Csrf) -> list[BaseRoute]:
    pages = _Pages(backend, templates, csrf)
    return [
        Route("/c/{token}", pages.show, methods=["GET"], name="card_request"),
        Route("/c/{token}/start", pages.start, methods=["POST"], name="card_request_start"),
        Route("/c/{token}/done", pages.done, methods=["GET"], name="card_request_done"),
    ]
