"""The owners' Activity page: every action taken in the console for a company, newest first."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncd.store import staff_audit as audit
from syncd.store.models import StaffAction
from syncd.web.staff.guard import OWNERS, gate_of, staff_route


async def activity(request: Request) -> Response:
    gate = gate_of(request)
    realm = str(request.path_params["company_id"])

    def read() -> list[StaffAction]:
        with gate.db.transaction() as session:
            rows = audit.recent(session, [realm])
            session.expunge_all()
            return rows

    rows = await run_in_threadpool(read)
    return gate.page(request, "staff/activity.html", {"actions": rows})


def activity_routes() -> list[BaseRoute]:
    return [staff_route("/staff/c/{company_id}/activity", activity, roles=OWNERS, name="staff_activity")]
