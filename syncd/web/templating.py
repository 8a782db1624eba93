"""The Jinja2 environment of the web pages: loaders, the shared filters, static assets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.presentation import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    install_filters,
    rendering_in,
    safe_colour,
    template_loader,
    text_colour_on,
)

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


class Templating:
    """Renders the web pages; a business's ``override_dir`` wins over the packaged templates."""

    def __init__(self, override_dir: Path | None) -> None:
        self.env = jinja2.Environment(
            loader=template_loader(override_dir, PACKAGE_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        install_filters(self.env)

    def render(self, name: str, context: Mapping[str, object]) -> str:
        """The page in the context's ``locale`` (the default without one)."""
        with rendering_in(context.get("locale")):
            return self.env.get_template(name).render(context)

    def response(
        self,
        name: str,
        context: Mapping[str, object],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return HTMLResponse(self.render(name, context), status_code=status_code, headers=headers)

    def source(self, name: str) -> str:
        """A template file's raw text (for CSS, which is served unrendered)."""
        loader = self.env.loader
        assert loader is not None
        text, _filename, _uptodate = loader.get_source(self.env, name)
        return text


def theme_css(primary: str, accent: str) -> str:
    """The branding custom properties; the inputs are validated so the CSS cannot be escaped."""
    p = safe_colour(primary, DEFAULT_PRIMARY)
    a = safe_colour(accent, DEFAULT_ACCENT)
    return (
        ":root{"
        f"--brand-primary:{p};--brand-on-primary:{text_colour_on(p)};"
        f"--brand-accent:{a};--brand-on-accent:{text_colour_on(a)};"
        "}\n"
    )


def theme_query(primary: str, accent: str) -> str:
    """Query string for ``/assets/theme.css`` (colours go by URL so no inline style is needed)."""
    p = safe_colour(primary, DEFAULT_PRIMARY)[1:]
    a = safe_colour(accent, DEFAULT_ACCENT)[1:]
    return f"p={p}&a={a}"


def asset_routes(templates: Templating) -> list[BaseRoute]:
    """``/assets/portal.css`` and ``/assets/theme.css``; cacheable, no secrets in them."""
    cache = {"Cache-Control": "public, max-age=3600"}

    async def stylesheet(request: Request) -> Response:
        return Response(templates.source("static/portal.css"), media_type="text/css", headers=cache)

    async def theme(request: Request) -> Response:
        p = "#" + request.query_params.get("p", "")
        a = "#" + request.query_params.get("a", "")
        return Response(theme_css(p, a), media_type="text/css", headers=cache)

    return [
        Route("/assets/portal.css", stylesheet, methods=["GET"], name="portal_css"),
        Route("/assets/theme.css", theme, methods=["GET"], name="theme_css"),
    ]
