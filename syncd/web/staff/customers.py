"""One customer's page in the console: invoices, payments, methods on file, autopay, installment
plans, card holds, promises, messages sent, collectors' notes and credit hold, read in a bounded
number of queries. Each section is a template under ``staff/customer/``; another area adds one by
appending to ``SECTIONS`` (its loader reads what its template needs). The page's buttons are in
``customer_actions``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncd.stages import authorizations, plan_views
from syncd.store import staff_views as views
from syncd.web.staff.customer_sections import autopay_section, notes_section, promises_section
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
    Section("Autopay", "staff/customer/autopay.html", autopay_section),
]


def _plans(session: Session, realm: str, customer_id: str) -> Mapping[str, object]:
    return {"plans": plan_views.items(session, realm, customer_id, everything=True)}


SECTIONS.append(Section("Installment plans", "staff/customer/plans.html", _plans))


def _holds(session: Session, realm: str, customer_id: str) -> Mapping[str, object]:
    return {"holds": authorizations.hold_items(session, realm, customer_id)}


SECTIONS.append(Section("Card holds", "staff/customer/holds.html", _holds))
SECTIONS.append(Section("Promises to pay", "staff/customer/promises.html", promises_section))
SECTIONS.append(Section("Messages sent", "staff/customer/messages.html"))
SECTIONS.append(Section("Notes and calls", "staff/customer/notes.html", notes_section))


async def render_customer(
    request: Request,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The customer page; ``error`` (one line) above it when an action was refused, with what the
    form held (``form``) kept in its fields."""
    gate = gate_of(request)
    realm = str(request.path_params["company_id"])
    customer_id = str(request.path_params["customer_id"])[:32]

    def read() -> tuple[views.CustomerFile | None, dict[str, Mapping[str, object]]]:
        with gate.db.transaction() as session:
            found = views.customer_file(session, realm, customer_id)
            if found is None:
                return None, {}
            extra = {s.template: s.load(session, realm, customer_id) for s in SECTIONS if s.load is not None}
            session.expunge_all()
            return found, extra

    found, extra = await run_in_threadpool(read)
    if found is None:
        return gate.message(request, 404, "Not found", "No such customer in this company.")
    done = request.query_params.get("done", "")
    return gate.page(
        request,
        "staff/customer.html",
        {
            "file": found,
            "sections": SECTIONS,
            "extra": extra,
            "today": gate.clock().date(),
            "error": error,
            "done": DONE.get(done) if error is None else None,
            "form": form or {},
            "base": f"/staff/c/{quote(realm, safe='')}/customers/{quote(found.customer.qbo_id, safe='')}",
        },
        status_code=status_code,
    )


# What the page says after each action (``?done=``), in ``customer_actions``' names.
DONE = {
    "plan": "Plan made: its schedule is below.",
    "cancel-plan": "Plan cancelled: nothing more of it is charged or sent.",
    "place-hold": "Card hold queued: it shows as held once Stripe authorises it.",
    "release-card-hold": "Release queued: Stripe lets go of the hold at the next worker run.",
    "autopay-off": "Autopay turned off: no charge not yet made will be made.",
}


async def customer_page(request: Request) -> Response:
    return await render_customer(request)


def customer_routes() -> list[BaseRoute]:
    return [
        staff_route(
            "/staff/c/{company_id}/customers/{customer_id}",
            customer_page,
            roles=EVERYONE,
            name="staff_customer",
        )
    ]
