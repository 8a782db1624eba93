"""The staff console under ``/staff``: sign-in (password, TOTP, passkeys), the overview of a
person's companies, and per company its health, invoices, customers (with their plans, card
holds and autopay, and the buttons acting on them), the needs-a-person queue and the owners'
activity log.

Every page is mounted with ``guard.staff_route`` (signed in, role per company, CSRF on POST);
other areas mount theirs the same way through ``extra`` (collections, reports).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context
from syncd.web.staff.activity import activity_routes
from syncd.web.staff.company import company_routes
from syncd.web.staff.customer_actions import customer_action_routes
from syncd.web.staff.customers import customer_routes
from syncd.web.staff.guard import StaffCsrf, StaffGate
from syncd.web.staff.invoices import invoice_routes
from syncd.web.staff.overview import overview_routes
from syncd.web.staff.passkeys import passkey_routes
from syncd.web.staff.queue import queue_routes
from syncd.web.staff.sign_in import sign_in_routes
from syncd.web.templating import Templating


def staff_gate(ctx: Context, templates: Templating) -> StaffGate:
    """The guard's state for ``app.state.staff_gate``; its CSRF secret is the console's own."""
    # The clock is read through ctx, so a test (or the demo) that moves ctx.clock moves the console.
    return StaffGate(ctx.db, lambda: ctx.clock(), StaffCsrf(ctx.box.purpose_key("staff-csrf")), templates)


def staff_assets(templates: Templating) -> list[BaseRoute]:
    """The console's stylesheet (every staff page links it)."""

    async def stylesheet(request: Request) -> Response:
        css = templates.source("static/staff.css")
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    return [Route("/assets/staff.css", stylesheet, methods=["GET"], name="staff_css")]


def staff_routes(ctx: Context, templates: Templating, extra: Iterable[BaseRoute] = ()) -> list[BaseRoute]:
    """Every console route, then ``extra`` (other areas' ``staff_route``s)."""
    return [
        *staff_assets(templates),
        *sign_in_routes(ctx.box),
        *passkey_routes(ctx),
        *overview_routes(),
        *company_routes(ctx),
        *invoice_routes(),
        *customer_routes(),
        *customer_action_routes(ctx),
        *queue_routes(ctx),
        *activity_routes(),
        *extra,
    ]
