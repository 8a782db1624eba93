"""The needs-a-person queue: effects that failed for good (Retry, as ``syncd failed --retry``),
charges QuickBooks has not accepted yet, charges booked as customer credit (the last 30 days),
entries deleted or changed in QuickBooks (Rebook or Release, as ``syncd entries``), customers
on credit hold (Release, as ``syncd holds``) and small debts proposed for write-off (Approve or
Decline, as ``syncd collect writeoff``).

Every button asks first: the POST without ``confirm=yes`` answers a confirmation page whose form
posts the same fields with it. Owners and bookkeepers act; read-only members only see.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncd.context import Context
from syncd.errors import PermanentError
from syncd.stages import entries, writeoffs
from syncd.stages.books.charges import Unbooked, unbooked
from syncd.store import effects, reviews
from syncd.store import holds as credit_holds
from syncd.store import staff_audit as audit
from syncd.store import staff_views as views
from syncd.store.models import CreditHold, Effect, EntryReview
from syncd.web.staff.guard import ACTORS, READERS, form_of, gate_of, principal_of, staff_route


@dataclass(frozen=True, slots=True)
class Action:
    """A queue button: what the confirmation says, and what it does (returns the outcome line)."""

    question: str
    field: str  # the form field naming the target


ACTIONS: dict[str, Action] = {
    "retry": Action("Queue this effect again? Only once its cause is fixed.", "key"),
    "retry-all": Action("Queue every failed effect of this company again?", "key"),
    "release-hold": Action(
        "Take this customer off credit hold? Bank debit is offered to them again.", "customer"
    ),
    "rebook": Action(
        "Write this entry into QuickBooks again (applied to what its invoices owe now)?", "entry"
    ),
    "release-entry": Action(
        "Leave QuickBooks as it is and let this entry's invoices be paid again?", "entry"
    ),
    "approve-writeoff": Action(
        "Write this debt off? A credit memo closing its invoices is written into QuickBooks.", "writeoff"
    ),
    "decline-writeoff": Action("Decline this write-off? The customer is chased as before.", "writeoff"),
}


CREDITS_SHOWN = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Queue:
    failed: list[Effect]
    unbooked: list[Unbooked]
    reviews: list[EntryReview]
    holds: list[tuple[CreditHold, str]]
    credits: list[views.CreditLeft]
    write_offs: list[writeoffs.WriteOffLine]


class _Queue:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def page(self, request: Request) -> Response:
        gate = gate_of(request)
        realm = str(request.path_params["company_id"])

        def read() -> Queue:
            with gate.db.transaction() as session:
                queue = Queue(
                    views.failed_effects(session, realm),
                    unbooked(session, realm),
                    reviews.listed(session, realm, open_only=True),
                    views.held_customers(session, realm),
                    views.credits_left(session, realm, since=gate.clock() - CREDITS_SHOWN),
                    [],
                )
                session.expunge_all()
            return replace(queue, write_offs=writeoffs.listing(self.ctx, realm))

        queue = await run_in_threadpool(read)
        return gate.page(request, "staff/queue.html", {"queue": queue})

    async def act(self, request: Request) -> Response:
        gate = gate_of(request)
        realm = str(request.path_params["company_id"])
        name = str(request.path_params["action"])
        action = ACTIONS.get(name)
        if action is None:
            return gate.message(request, 404, "Not found", "There is no such action.")
        fields = form_of(request)
        target = fields.get(action.field, "")[:200]
        if name != "retry-all" and not target:
            return gate.message(request, 400, "Nothing chosen", f"The form named no {action.field}.")
        back = f"/staff/c/{realm}/queue"
        if fields.get("confirm") != "yes":
            question = {
                "title": "Please confirm",
                "text": action.question,
                "target": target,
                "action": f"{back}/{name}",
                "fields": {action.field: target},
                "back": back,
            }
            return gate.page(request, "staff/confirm.html", question)
        who = principal_of(request)

        def perform() -> tuple[int, str]:
            outcome = self._perform(name, realm, target, who.email)
            if outcome[0] == 200:
                with gate.db.transaction() as session:
                    audit.record(
                        session, who, f"queue.{name}", now=gate.clock(), company_id=realm, target=target
                    )
            return outcome

        status, text = await run_in_threadpool(perform)
        return gate.page(
            request, "staff/message.html", {"title": "Queue", "text": text, "back": back}, status_code=status
        )

    def _perform(self, name: str, realm: str, target: str, by: str) -> tuple[int, str]:
        ctx, now = self.ctx, self.ctx.clock()
        if name in ("approve-writeoff", "decline-writeoff"):
            if not target.isdigit():
                return 400, "The form named no write-off."
            try:
                return 200, writeoffs.decide(
                    ctx, int(target), approve=name == "approve-writeoff", by=by, realm_id=realm
                )
            except PermanentError as exc:
                return 409, f"Not done: {exc}."
        if name == "retry":
            if effects.requeue_one(ctx.db, company_id=realm, key=target, now=now):
                return 200, "Queued again: the running daemon performs it at its next worker run."
            return 409, "That effect is not failed (any more)."
        if name == "retry-all":
            moved = effects.requeue_failed(ctx.db, company_id=realm, now=now)
            return 200, f"{moved} effect(s) queued again."
        if name == "release-hold":
            with ctx.db.transaction() as session:
                released = credit_holds.release(session, realm, target, now=now)
            if released is None:
                return 409, "That customer is not on credit hold."
            return 200, "Released: only new failed or returned payments count from now on."
        try:
            if name == "rebook":
                entries.rebook(ctx, realm, target)
                return 200, "Queued to be written again; the running daemon writes it."
            entries.release(ctx, realm, target)
            return 200, "Released: its invoices can be paid again."
        except PermanentError as exc:
            return 409, str(exc)


def queue_routes(ctx: Context) -> list[BaseRoute]:
    q = _Queue(ctx)
    return [
        staff_route("/staff/c/{company_id}/queue", q.page, roles=READERS, name="staff_queue"),
        staff_route("/staff/c/{company_id}/queue/{action}", q.act, roles=ACTORS, methods=["POST"]),
    ]
