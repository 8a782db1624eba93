"""One customer's page in the console: invoices, payments, methods on file, messages sent and
credit hold. Each section is a template under ``staff/customer/``; another area adds one by
appending to ``SECTIONS`` (its loader reads what its template needs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncd.stages import authorizations, plan_views
from syncd.store import staff_views as views
from syncd.web.staff.guard import EVERYONE, gate_of, staff_route


@dataclass(frozen=True, slots=True)
class Section:
    """A part of the customer page: its template, and what it reads (company, customer) → context."""

    title: str
    template: str
    load: Callable[[Session, str, str], Mapping[str, object]] | None = None


SECTIONS: list[Section] = [
    Section("Invoices", "staff/customer/invoices.html"),
    Section("Payments", "staff/customer/payments.html"),
    Section("Methods on file", "staff/customer/methods.html"),
    Section("Messages sent", "staff/customer/messages.html"),
]


def _plans(session: Session, realm: str, customer_id: str) -> Mapping[str, object]:
    return {"plans": plan_views.items(session, realm, customer_id, everything=True)}


SECTIONS.append(Section("Installment plans", "staff/customer/plans.html", _plans))


def _holds(session: Session, realm: str, customer_id: str) -> Mapping[str, object]:
    return {"holds": authorizations.hold_items(session, realm, customer_id)}


SECTIONS.append(Section("Card holds", "staff/customer/holds.html", _holds))


async def customer_page(request: Request) -> Response:
    gate = gate_of(request)
    realm = str(request.path_params["company_id"])
    customer_id = str(request.path_params["customer_id"])[:32]

    def read() -> tuple[views.CustomerFile | None, dict[str, Mapping[str, object]]]:
        with gate.db.transaction() as session:
            found = views.customer_file(session, realm, customer_id)
            extra = {s.template: s.load(session, realm, customer_id) for s in SECTIONS if s.load is not None}
            session.expunge_all()
            return found, extra

    found, extra = await run_in_threadpool(read)
    if found is None:
        return gate.message(request, 404, "Not found", "No such customer in this company.")
    return gate.page(
        request,
        "staff/customer.html",
        {"file": found, "sections": SECTIONS, "extra": extra, "today": gate.clock().date()},
    )


def customer_routes() -> list[BaseRoute]:
    return [
        staff_route(
            "/staff/c/{company_id}/customers/{customer_id}",
            customer_page,
            roles=EVERYONE,
            name="staff_customer",
        )
    ]
