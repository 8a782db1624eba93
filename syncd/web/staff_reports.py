"""The staff report pages: one report as HTML (SVG charts over the table of its figures) inside the
console's layout (its nav, company switcher and the links to every report), and the same figures
as CSV or JSON. Whoever mounts ``render_report`` has already checked that the staff member may see
the company (``syncd.web.staff.guard.staff_route``)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from syncd.clock import Clock
from syncd.context import Context
from syncd.reports.charts import render
from syncd.reports.common import Tabular, company_zone, local_day
from syncd.reports.run import NAMES, Ask, build
from syncd.store.engine import Database
from syncd.store.models import Company
from syncd.web.staff.guard import gate_of
from syncd.web.templating import Templating

FORMATS = ("html", "csv", "json", "css")
_FILENAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class ReportDesk:
    """What the report pages need: the store, the clock, the templates and each company's
    configured timezone (None: QBO's). Kept on ``app.state.report_desk`` (:func:`install`)."""

    db: Database
    templates: Templating
    clock: Clock
    timezone_of: Callable[[str], str | None]

    @classmethod
    def of(cls, ctx: Context, templates: Templating) -> ReportDesk:
        return cls(ctx.db, templates, ctx.clock, lambda realm: ctx.settings.company(realm).timezone)


def install(app: Starlette, desk: ReportDesk) -> None:
    app.state.report_desk = desk


class BadAsk(ValueError):
    """A query parameter that cannot be read: the message names it."""


def _day(request: Request, name: str) -> date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadAsk(f"{name}: not a date, use YYYY-MM-DD") from None


def _built(
    desk: ReportDesk, company_id: str, name: str, as_of: date | None, start: date | None, grain: str
) -> tuple[Tabular, str]:
    """The report, and the company's name for the page."""
    with desk.db.transaction() as session:
        row = session.get(Company, company_id)
        company_name = (row.name if row is not None else None) or company_id
        zone = company_zone(session, company_id, desk.timezone_of(company_id))
        day = as_of if as_of is not None else local_day(desk.clock(), zone)
        try:
            return build(session, company_id, name, Ask(day, zone, start, grain)), company_name
        except ValueError as exc:
            raise BadAsk(str(exc)) from None


def about(report: Tabular) -> list[str]:
    """The report's explanation for the page: its class docstring, paragraph by paragraph."""
    text = inspect.cleandoc(type(report).__doc__ or "").replace("``", "")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


async def render_report(request: Request, *, company_id: str, name: str) -> Response:
    """``name`` for ``company_id`` as ``?format=html`` (default), ``csv`` or ``json``; ``as_of``,
    ``from`` (YYYY-MM-DD) and ``by`` (week, month) as in ``syncd report``. 404 for an unknown
    report, 400 (one line) for a parameter that cannot be read."""
    desk: ReportDesk = request.app.state.report_desk
    if name not in NAMES:
        return PlainTextResponse(f"no report {name!r}; one of {', '.join(NAMES)}", status_code=404)
    fmt = request.query_params.get("format", "html")
    if fmt == "css":
        css = desk.templates.source("staff_reports/report.css")
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})
    try:
        if fmt not in FORMATS:
            raise BadAsk(f"format: one of {', '.join(FORMATS[:3])}")
        grain = request.query_params.get("by", "week")
        if grain not in ("week", "month"):
            raise BadAsk("by: week or month")
        as_of, start = _day(request, "as_of"), _day(request, "from")
        report, company_name = await run_in_threadpool(_built, desk, company_id, name, as_of, start, grain)
    except BadAsk as exc:
        return PlainTextResponse(str(exc), status_code=400)
    stem = _FILENAME.sub("_", f"{name}-{company_id}")
    if fmt == "json":
        return JSONResponse(report.to_json())
    if fmt == "csv":
        return Response(
            report.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    kept = {k: v for k, v in request.query_params.items() if k in ("as_of", "from", "by") and v}
    return gate_of(request).page(
        request,
        "staff_reports/report.html",
        {
            "report": report,
            "report_name": report.name,
            "company_name": company_name,
            "header": report.header(),
            "rows": report.table(),
            "charts": [(c.title, render(c)) for c in report.charts()],
            "about": about(report),
            "params": report.params(),
            "grain": request.query_params.get("by", "week"),
            "css_href": "?format=css",
            "csv_href": "?" + urlencode({**kept, "format": "csv"}),
            "json_href": "?" + urlencode({**kept, "format": "json"}),
        },
    )


async def report_page(request: Request) -> Response:
    """The console's route to :func:`render_report`: company and report from the path (the
    console's guard has checked the staff member may read the company)."""
    return await render_report(
        request, company_id=request.path_params["company_id"], name=request.path_params["name"]
    )
