"""The collector pages in a tiny app for tests: the real routes over the real desk, rendered by
the console's page renderer (``StaffGate``), behind a test-only middleware that puts whichever
staff member the test chose into the scope (the console's guard does this in syncd)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from loop_harness import Loop
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from syncd.domain.staff import SCOPE_KEY, StaffPrincipal, StaffRole
from syncd.stages import ladder
from syncd.stages.collection_desk import Desk
from syncd.stages.cycle import run_cycle
from syncd.store.models import InvoiceRow
from syncd.web.collections import collect_routes
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.staff import staff_assets
from syncd.web.staff.guard import StaffCsrf, StaffGate
from syncd.web.templating import Templating, asset_routes

ANA = "ana@northwind.test"


@dataclass
class SignedIn:
    """Who the next request is from (None: nobody signed in)."""

    principal: StaffPrincipal | None = None
    realm: str = ""
    staff: dict[str, StaffPrincipal] = field(default_factory=dict)

    def as_(self, email: str | None) -> None:
        self.principal = self.staff[email] if email else None


class _Put:
    def __init__(self, app: ASGIApp, signed_in: SignedIn) -> None:
        self.app, self.signed_in = app, signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.signed_in.principal is not None:
            scope[SCOPE_KEY] = self.signed_in.principal
        await self.app(scope, receive, send)


def collect_app(loop: Loop, signed_in: SignedIn) -> Starlette:
    templates = Templating(None)
    realm = loop.realm
    for n, (email, role) in enumerate(
        [
            (ANA, StaffRole.COLLECTOR),
            ("ben@northwind.test", StaffRole.COLLECTOR),
            ("owner@northwind.test", StaffRole.OWNER),
            ("books@northwind.test", StaffRole.BOOKKEEPER),
        ],
        start=1,
    ):
        signed_in.staff[email] = StaffPrincipal(n, email, email.split("@")[0].title(), {realm: role})
    signed_in.realm = realm
    app = Starlette(
        routes=[*collect_routes(Desk(loop.ctx)), *staff_assets(templates), *asset_routes(templates)],
        middleware=[Middleware(SecurityHeadersMiddleware), Middleware(_Put, signed_in=signed_in)],
    )
    ctx = loop.ctx
    app.state.staff_gate = StaffGate(ctx.db, lambda: ctx.clock(), StaffCsrf(b"c" * 32), templates)
    return app


def overdue_account(loop: Loop, *, collector: str = ANA, amount: str = "180.00") -> dict[str, Any]:
    """One customer with an overdue invoice, assigned to ``collector``; returns its ids."""
    due = datetime.now(UTC).date() - timedelta(days=40)
    invoice_id = loop.qbo.add_invoice(amount=Decimal(amount), due_date=due)
    run_cycle(loop.ctx, loop.realm)
    with loop.ctx.db.transaction() as session:
        invoice = session.get(InvoiceRow, (loop.realm, invoice_id))
        assert invoice is not None
        customer_id = invoice.customer_id
        ladder.assign(
            session, loop.realm, customer_id, collector, by="owner@northwind.test", now=loop.ctx.clock()
        )
        number = session.scalars(select(InvoiceRow.doc_number).where(InvoiceRow.qbo_id == invoice_id)).one()
    return {"customer_id": customer_id, "invoice_id": invoice_id, "number": number}
