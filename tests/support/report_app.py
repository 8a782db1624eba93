"""A tiny Starlette app mounting ``render_report`` for every report without the console's guard
(the console mounts it behind ``staff_route``), over a store seeded with a company that has
something in every report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from report_rows import REALM, company, effect, invoice, movement, payment
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncd.domain.payments import PaymentStatus
from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.staff.guard import StaffCsrf, StaffGate
from syncd.web.staff_reports import ReportDesk, install, render_report
from syncd.web.templating import Templating

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def seed(db: Database) -> None:
    """Two currencies, open and partly paid invoices, payments, an email, a failure, movements."""
    with db.transaction() as s:
        s.merge(company())  # the console may have made the row from its configuration already
        s.add_all(
            [
                invoice("1", total="120.00", balance="20.00", status="partial", due=date(2026, 2, 10)),
                invoice("2", total="80.00", due=date(2026, 3, 9)),
                invoice("3", total="45.50", name="Café <Ünïcode> & Co", customer="9", due=date(2025, 11, 1)),
                invoice(
                    "4", total="300.00", currency="EUR", customer="8", name="Old Mill", due=date(2026, 3, 20)
                ),
                effect("e1", "email.invoice", {"invoice_id": "1"}, at=datetime(2026, 2, 1, tzinfo=UTC)),
                payment("p1", ["1"], "100.00", at=datetime(2026, 2, 12, tzinfo=UTC), method="card"),
                payment(
                    "p2", ["2"], "80.00", at=datetime(2026, 2, 20, tzinfo=UTC), status=PaymentStatus.RETURNED
                ),
                effect("q1", "qbo.fee", {}, at=datetime(2026, 2, 12, tzinfo=UTC), status="failed"),
                movement("txn_1", "96.80", at=datetime(2026, 2, 12, tzinfo=UTC), entries={"payment": "P1"}),
            ]
        )


def report_app(db: Database) -> Starlette:
    """``/staff/c/{company_id}/reports/{name}`` behind the same security headers as every syncd page."""

    async def page(request: Request) -> Response:
        return await render_report(
            request, company_id=request.path_params["company_id"], name=request.path_params["name"]
        )

    app = Starlette(
        routes=[Route("/staff/c/{company_id}/reports/{name}", page, methods=["GET"])],
        middleware=[Middleware(SecurityHeadersMiddleware)],
    )
    templates = Templating(None)
    install(app, ReportDesk(db, templates, lambda: NOW, lambda realm: None))
    csrf = StaffCsrf(SecretBox(SecretBox.generate()).purpose_key("staff-csrf"))
    app.state.staff_gate = StaffGate(db, lambda: NOW, csrf, templates)
    return app


PATH = f"/staff/c/{REALM}/reports"


def parse_svg(svg: str) -> ET.Element:
    """A chart syncd drew, parsed (well-formed or it raises)."""
    return ET.fromstring(svg)  # noqa: S314 - syncd's own output, not untrusted input
