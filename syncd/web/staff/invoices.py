"""A company's invoices in the console, with filters (status, overdue, customer or number search,
amount range) and pages of 50; every role sees them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncd.store import staff_views as views
from syncd.web.staff.guard import EVERYONE, gate_of, staff_route


def _amount(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < Decimal("1e12") else None


def _page(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 7 else 1


def query_of(request: Request) -> views.InvoiceQuery:
    """The filters from the query string; anything malformed is ignored rather than refused."""
    params = request.query_params
    try:
        status = views.InvoiceFilter(params.get("status", "open"))
    except ValueError:
        status = views.InvoiceFilter.OPEN
    return views.InvoiceQuery(
        status=status,
        search=params.get("q", "").strip()[:100],
        min_amount=_amount(params.get("min")),
        max_amount=_amount(params.get("max")),
        page=_page(params.get("page")),
    )


async def invoice_list(request: Request) -> Response:
    gate = gate_of(request)
    realm = str(request.path_params["company_id"])
    query = query_of(request)

    def read() -> views.InvoicePage:
        with gate.db.transaction() as session:
            page = views.invoices(session, realm, query, today=gate.clock().date())
            for row in page.rows:
                session.expunge(row)
            return page

    page = await run_in_threadpool(read)
    kept = {
        "status": query.status.value,
        "q": query.search,
        "min": "" if query.min_amount is None else str(query.min_amount),
        "max": "" if query.max_amount is None else str(query.max_amount),
    }
    return gate.page(
        request,
        "staff/invoices.html",
        {
            "result": page,
            "query": kept,
            "filters": [f.value for f in views.InvoiceFilter],
            "today": gate.clock().date(),
            "prev_url": f"?{urlencode({**kept, 'page': page.page - 1})}" if page.page > 1 else None,
            "next_url": f"?{urlencode({**kept, 'page': page.page + 1})}" if page.page < page.pages else None,
        },
    )


def invoice_routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/c/{company_id}/invoices", invoice_list, roles=EVERYONE, name="staff_invoices")
    ]
