"""A trial reminder's one-click page: ``GET /t/{token}?choice=continue|cancel`` says what the choice
does (a GET changes nothing: mail scanners open links), ``POST /t/{token}`` (CSRF) records it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncd.errors import PermanentError
from syncd.ports.account_text import TEXT
from syncd.ports.recurring import TrialBackend, TrialChoice, TrialView
from syncd.web.csrf import FIELD, Csrf
from syncd.web.portal import LinkPages, branded
from syncd.web.templating import Templating


def _choice(value: object) -> TrialChoice:
    try:
        return TrialChoice(str(value))
    except ValueError:
        return TrialChoice.CONTINUE


class _Pages(LinkPages[TrialBackend]):
    def _page(
        self,
        request: Request,
        view: TrialView,
        choice: TrialChoice,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        token = request.path_params["token"]
        issued = self.csrf.issue(request, f"trial:{token}") if view.state == "open" else None
        context = {
            "root": request.scope.get("root_path", ""),
            "t": TEXT,
            "token": token,
            "view": view,
            **branded(view.branding),
            "choice": choice.value,
            "error": error,
            "csrf_field": FIELD,
            "csrf_token": issued.token if issued else "",
        }
        response = self.templates.response("portal/trial.html", context, status_code=status)
        if issued is not None:
            self.csrf.apply(response, request, issued)
        return response

    async def show(self, request: Request) -> Response:
        view = await run_in_threadpool(self.backend.view, request.path_params["token"])
        if view is None:
            return self.not_found()
        return self._page(request, view, _choice(request.query_params.get("choice")))

    async def choose(self, request: Request) -> Response:
        token = request.path_params["token"]
        async with request.form(max_files=0, max_fields=5) as form:
            submitted = form.get(FIELD)
            choice = _choice(form.get("choice"))
        view = await run_in_threadpool(self.backend.view, token)
        if view is None:
            return self.not_found()
        if not self.csrf.verify(request, f"trial:{token}", submitted):
            return self._page(request, view, choice, error=TEXT["expired_text"], status=403)
        try:
            chosen = await run_in_threadpool(self.backend.choose, token, choice)
        except PermanentError as exc:
            return self._page(request, view, choice, error=str(exc), status=400)
        if chosen is None:
            return self.not_found()
        return self._page(request, chosen, choice)


def trial_routes(backend: TrialBackend, templates: Templating, csrf: Csrf) -> list[BaseRoute]:
    pages = _Pages(backend, templates, csrf)
    return [
        Route("/t/{token}", pages.show, methods=["GET"], name="trial"),
        Route("/t/{token}", pages.choose, methods=["POST"], name="trial_choose"),
    ]
