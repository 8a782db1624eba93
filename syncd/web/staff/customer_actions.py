"""The customer page's buttons, each what a command does: **Make a plan** and **Cancel plan**
(``syncd plan create|cancel``), **Place a card hold** and **Release** (``syncd authorize
place|release``), and **Turn off autopay** (what the customer can do from their account page,
recorded as done by staff). Each calls the same stage function as the command.

Every button asks first: the POST without ``confirm=yes`` answers a confirmation page (for a plan,
the exact split) whose form posts the same fields with it. A refusal from the stage is one line on
the customer page, nothing changed; success is audited and lands back on the page. Owners and
bookkeepers act; read-only members and collectors only see.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from syncd.context import Context
from syncd.domain.plans import Cadence, PlanError
from syncd.errors import PermanentError
from syncd.stages import authorizations, autopay_account, plans
from syncd.store import staff_audit as audit
from syncd.store.models import CardAuthorizationRow, InstallmentPlan
from syncd.web.staff.customers import render_customer
from syncd.web.staff.guard import ACTORS, form_of, gate_of, principal_of, staff_route

EVERY = {"week": "every week", "2weeks": "every two weeks", "month": "every month"}


class Refused(ValueError):
    """The action cannot be done as asked: the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Action:
    """A customer-page button: the fields it posts and the audit name of what it does."""

    fields: tuple[str, ...]
    title: str


ACTIONS: dict[str, Action] = {
    "plan": Action(("invoice", "down", "count", "every", "start"), "Make this plan?"),
    "cancel-plan": Action(("plan",), "Cancel this plan?"),
    "place-hold": Action(("amount", "note", "request_id"), "Place this card hold?"),
    "release-card-hold": Action(("authorization",), "Release this card hold?"),
    "autopay-off": Action((), "Turn off autopay for this customer?"),
}


def _amount(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise Refused(f"the {name} must be an amount like 100.00") from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise Refused(f"the {name} must be an amount like 100.00")
    return value


def _plan_args(fields: Mapping[str, str]) -> tuple[str, Decimal, int, Cadence, date | None]:
    invoice = fields.get("invoice", "").strip()
    if not invoice:
        raise Refused("choose the invoice the plan is for")
    count_text = fields.get("count", "").strip()
    if not count_text.isdigit() or len(count_text) > 3:
        raise Refused("the number of installments must be a whole number like 3")
    try:
        every = Cadence(fields.get("every", ""))
    except ValueError:
        raise Refused("choose how far apart the installments fall") from None
    start_text = fields.get("start", "").strip()
    try:
        start = date.fromisoformat(start_text) if start_text else None
    except ValueError:
        raise Refused("the start date must be a date like 2026-12-01") from None
    return invoice, _amount(fields.get("down", ""), "down payment"), int(count_text), every, start


def _int(text: str, what: str) -> int:
    if not text.strip().isdigit() or len(text.strip()) > 12:
        raise Refused(f"the form named no {what}")
    return int(text.strip())


class _Actions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def act(self, request: Request) -> Response:
        gate = gate_of(request)
        realm = str(request.path_params["company_id"])
        customer_id = str(request.path_params["customer_id"])[:32]
        name = str(request.path_params["action"])
        action = ACTIONS.get(name)
        if action is None:
            return gate.message(request, 404, "Not found", "There is no such action.")
        fields = {k: form_of(request).get(k, "")[:500] for k in action.fields}
        base = f"/staff/c/{quote(realm, safe='')}/customers/{quote(customer_id, safe='')}"
        try:
            if form_of(request).get("confirm") != "yes":
                question = await run_in_threadpool(self._question, name, realm, customer_id, fields)
                context = {
                    "title": action.title,
                    "action": f"{base}/{name}",
                    "fields": fields,
                    "back": base,
                    **question,
                }
                return gate.page(request, "staff/confirm.html", context)
            who = principal_of(request)

            def perform() -> None:
                target = self._perform(name, realm, customer_id, fields, who.email)
                with gate.db.transaction() as session:
                    audit.record(
                        session, who, f"customer.{name}", now=gate.clock(), company_id=realm, target=target
                    )

            await run_in_threadpool(perform)
        except (Refused, PlanError, PermanentError) as exc:
            line = (str(exc).splitlines() or ["not done"])[0][:300].rstrip(".")
            return await render_customer(request, error=f"Not done: {line}.", form=fields, status_code=409)
        return RedirectResponse(f"{base}?done={name}#{_anchor(name)}", status_code=303)

    def _owned(self, what: str, ident: int | str, realm: str, customer: str) -> None:
        """Refused unless the plan or card hold is this customer's (the page acts on this one)."""
        with self.ctx.db.transaction() as session:
            row: InstallmentPlan | CardAuthorizationRow | None = (
                session.get(InstallmentPlan, ident)
                if what == "plan"
                else session.get(CardAuthorizationRow, ident)
            )
            if row is None or (row.company_id, row.customer_id) != (realm, customer):
                raise Refused(f"no {what} {ident} for this customer")

    def _proposal(
        self, realm: str, customer_id: str, fields: Mapping[str, str]
    ) -> tuple[int, Cadence, plans.Proposal]:
        """The plan the stage would make from the form, refused when its invoice is another
        customer's (this page acts on this customer only)."""
        invoice, down, count, every, start = _plan_args(fields)
        proposal = plans.preview(self.ctx, realm, invoice, down=down, count=count, every=every, start=start)
        if proposal.customer_id != customer_id:
            raise Refused(f"invoice {invoice} is another customer's")
        return count, every, proposal

    def _question(
        self, name: str, realm: str, customer_id: str, fields: Mapping[str, str]
    ) -> dict[str, object]:
        """What the confirmation page says; a plan is previewed by the stage (same rules)."""
        if name == "plan":
            count, every, proposal = self._proposal(realm, customer_id, fields)
            rows = [
                ("Down payment" if n == 0 else f"Installment {n}", on, amount)
                for n, (on, amount) in enumerate(proposal.parts)
            ]
            return {
                "text": (
                    f"Invoice {proposal.invoice_number}: its open balance is split into a down payment and "
                    f"{count} installment(s) {EVERY[every.value]}, charged on the customer's autopay method "
                    "on each date or else emailed as a link for that amount."
                ),
                "split": rows,
                "currency": proposal.currency,
                "total": proposal.balance,
            }
        if name == "cancel-plan":
            plan_id = _int(fields.get("plan", ""), "plan")
            self._owned("plan", plan_id, realm, customer_id)
            return {
                "text": (
                    f"Cancel plan {plan_id}? Nothing more of it is charged or sent (an installment already "
                    "being charged still lands in the books); the invoice is reminded and autopaid as any "
                    "other again."
                )
            }
        if name == "place-hold":
            amount = _amount(fields.get("amount", ""), "amount")
            card = authorizations.preview(self.ctx, realm, customer_id, amount)
            return {
                "text": (
                    f"Hold {amount:f} on the customer's {card}? It is captured from their next "
                    "invoice, or released once unused."
                ),
                "target": fields.get("note", "").strip(),
                # Names this submission: sent twice, it places one hold.
                "fields": {**fields, "request_id": secrets.token_urlsafe(16)},
            }
        if name == "release-card-hold":
            ident = fields.get("authorization", "").strip()
            self._owned("card hold", ident, realm, customer_id)
            return {"text": "Let go of this hold on the customer's card?", "target": ident}
        return {
            "text": (
                "Turn off autopay for this customer? No automatic charge not yet made will be made; "
                "they can turn it on again from their account page."
            )
        }

    def _perform(self, name: str, realm: str, customer_id: str, fields: Mapping[str, str], by: str) -> str:
        """Do it through the stage; returns the audit target."""
        ctx = self.ctx
        if name == "plan":
            invoice, down, count, every, start = _plan_args(fields)
            _, _, proposal = self._proposal(realm, customer_id, fields)
            plan_id = plans.create(ctx, realm, invoice, down=down, count=count, every=every, start=start)
            return f"plan {plan_id} invoice {proposal.invoice_number}"
        if name == "cancel-plan":
            plan_id = _int(fields.get("plan", ""), "plan")
            self._owned("plan", plan_id, realm, customer_id)
            plans.cancel(ctx, realm, plan_id)
            return f"plan {plan_id}"
        if name == "place-hold":
            amount = _amount(fields.get("amount", ""), "amount")
            request_id = fields.get("request_id", "").strip() or None
            held = authorizations.place(
                ctx, realm, customer_id, amount, fields.get("note") or None, request_id=request_id
            )
            return f"{held} {amount:f}"
        if name == "release-card-hold":
            ident = fields.get("authorization", "").strip()
            self._owned("card hold", ident, realm, customer_id)
            authorizations.release_now(ctx, realm, ident)
            return ident
        with ctx.db.transaction() as session:
            stopped = autopay_account.stop(ctx, session, realm, customer_id, "turned off by staff")
        if not stopped:
            raise Refused("autopay is not on for this customer")
        return customer_id


def _anchor(name: str) -> str:
    if name in ("plan", "cancel-plan"):
        return "installment-plans"
    return "autopay" if name == "autopay-off" else "card-holds"


def customer_action_routes(ctx: Context) -> list[BaseRoute]:
    a = _Actions(ctx)
    return [
        staff_route(
            "/staff/c/{company_id}/customers/{customer_id}/{action}", a.act, roles=ACTORS, methods=["POST"]
        )
    ]
