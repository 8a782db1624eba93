"""A trial reminder's one-click links: ``/t/{token}?choice=continue|cancel`` shows what the choice
does, its POST records it (cancel stops the template in QuickBooks).

The token is an HMAC of (company, template, first invoice date) — derived again for the email,
never stored; the store keeps its SHA-256 only. It works until the first invoice's date is over.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain.recurring import RecurAction
from syncd.errors import PermanentError
from syncd.links import Links
from syncd.ports.recurring import TrialChoice, TrialView
from syncd.stages import recurring_actions, views
from syncd.stages.notify import local_now
from syncd.store import mirror
from syncd.store import recurring as store
from syncd.store.models import RecurringLink

_CHOSEN = {TrialChoice.CONTINUE.value: "continued", TrialChoice.CANCEL.value: "cancelled"}
EXPIRED = "This link has expired: the trial's first invoice date is past. Please contact us instead."


def token(ctx: Context, realm_id: str, template_id: str, first: date) -> str:
    # Invoice ids are numeric, so this derivation never meets an invoice link's.
    return ctx.links.token(realm_id, f"recurring-trial\x00{template_id}\x00{first.isoformat()}")


def url(ctx: Context, link_token: str, choice: TrialChoice) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/t/{link_token}?choice={choice.value}"


def open_trial_link(
    ctx: Context, session: Session, realm_id: str, template_id: str, first: date, now: datetime
) -> str:
    """The link row for (template, first date), made once; returns the token."""
    link_token = token(ctx, realm_id, template_id, first)
    digest = Links.digest(link_token)
    assert digest is not None
    # Usable through the first invoice's day, wherever the customer is.
    expires = datetime.combine(first + timedelta(days=2), time(), UTC)
    store.open_link(session, digest, realm_id, template_id, first, now, expires)
    return link_token


class TrialLinks:
    """Implements ``syncd.ports.recurring.TrialBackend`` over the store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _link(self, session: Session, link_token: str) -> RecurringLink | None:
        digest = Links.digest(link_token)
        return store.link(session, digest) if digest is not None else None

    def _view(self, session: Session, link: RecurringLink) -> TrialView | None:
        row = store.get(session, link.company_id, link.template_id)
        customer = mirror.get_customer(session, link.company_id, row.customer_id) if row else None
        if row is None or customer is None or customer.deleted:
            return None
        state = _CHOSEN.get(link.choice or "", "expired" if link.expires_at <= self.ctx.clock() else "open")
        if state == "open" and row.action == RecurAction.CANCEL.value:
            state = "cancelled"  # cancelled from the account page meanwhile
        return TrialView(
            branding=views.branding(self.ctx, session, link.company_id),
            customer_name=customer.display_name,
            service_name=row.name,
            amount=row.amount,
            currency=row.currency,
            first_date=link.first_date,
            state=state,
        )

    def view(self, link_token: str) -> TrialView | None:
        with self.ctx.db.transaction() as session:
            link = self._link(session, link_token)
            return self._view(session, link) if link is not None else None

    def choose(self, link_token: str, choice: TrialChoice) -> TrialView | None:
        ctx = self.ctx
        now = ctx.clock()
        with ctx.db.transaction() as session:
            link = self._link(session, link_token)
            realm = link.company_id if link is not None else None
        if realm is None:
            return None
        today = local_now(ctx, realm).date()
        with ctx.db.transaction() as session:
            link = self._link(session, link_token)
            if link is None:
                return None
            view = self._view(session, link)
            if view is None:
                return None
            if view.state == "expired":
                raise PermanentError(EXPIRED)
            if view.state != "open":
                return view  # the first choice stands
            row = store.get(session, link.company_id, link.template_id)
            customer = mirror.get_customer(session, link.company_id, row.customer_id) if row else None
            assert row is not None and customer is not None
            link.choice, link.chosen_at = choice.value, now
            if choice is TrialChoice.CANCEL:
                recurring_actions.request(
                    session,
                    customer,
                    row,
                    RecurAction.CANCEL,
                    today=today,
                    now=now,
                    source="the trial reminder",
                )
            view = self._view(session, link)
        ctx.wake("worker", None)
        return view
