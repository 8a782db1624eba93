"""The console's first page: the person's companies ranked by what needs attention (paused,
failed effects, holds, entry reviews, overdue total), and switching between them."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from syncd.store import staff_views as views
from syncd.web.staff.guard import EVERYONE, READERS, REPORT_LINKS, gate_of, principal_of, staff_route

REPORT_NAMES = frozenset(name for name, _title in REPORT_LINKS)


async def overview(request: Request) -> Response:
    gate = gate_of(request)
    who = principal_of(request)

    def read() -> list[views.Attention]:
        with gate.db.transaction() as session:
            return views.overview(session, who.roles, today=gate.clock().date())

    ranked = await run_in_threadpool(read)
    return gate.page(request, "staff/overview.html", {"ranked": ranked, "roles": who.roles})


async def switch(request: Request) -> Response:
    """``?company=<realm>`` from the switcher; a company the person has no role in goes nowhere.
    From a report (``&report=<name>``), the same report of the other company when the role there
    may read reports; otherwise the company's home."""
    who = principal_of(request)
    wanted = request.query_params.get("company", "")
    role = who.role_in(wanted)
    if role is None:
        return RedirectResponse("/staff", status_code=303)
    report = request.query_params.get("report", "")
    if report in REPORT_NAMES and role in READERS:
        return RedirectResponse(f"/staff/c/{wanted}/reports/{report}", status_code=303)
    return RedirectResponse(f"/staff/c/{wanted}", status_code=303)


def overview_routes() -> list[BaseRoute]:
    return [
        staff_route("/staff", overview, roles=EVERYONE, name="staff_overview"),
        staff_route("/staff/switch", switch, roles=EVERYONE, name="staff_switch"),
    ]
