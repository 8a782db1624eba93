"""Per-company health for `syncd status` and the metrics page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from syncd.companies import fix_for
from syncd.context import Context
from syncd.domain.payments import PaymentStatus
from syncd.errors import Credential
from syncd.stages.books.charges import unbooked
from syncd.store import effects
from syncd.store.models import Company, InvoiceRow, PaymentRow, Secret
from syncd.store.tokens import TOKENS


def _credential(company: Company) -> Credential | None:
    return Credential(company.pause_credential) if company.pause_credential else None


@dataclass(frozen=True, slots=True)
class CompanyReport:
    """One company's line in `syncd status`: its run status (``companies.CompanyStatus``) and counts."""

    realm_id: str
    name: str
    connected: bool
    status: str
    status_reason: str | None
    # While paused: the refused credential (a setting name, or quickbooks.connection), since
    # when, and what a person does about it.
    pause_credential: str | None
    paused_at: datetime | None
    fix: str | None
    last_pull_at: datetime | None
    open_invoices: int
    paid_invoices: int
    effects_pending: int
    effects_failed: int
    payments_succeeded: int
    # Charges Stripe took whose QBO Payment is held back (see ``syncd failed``).
    charges_unbooked: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_pull_at", "paused_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        return data


def company_reports(ctx: Context) -> list[CompanyReport]:
    out = []
    with ctx.db.transaction() as session:
        for company in session.scalars(select(Company).order_by(Company.realm_id)):
            realm = company.realm_id
            by_status = dict(
                session.execute(
                    select(InvoiceRow.status, func.count())
                    .where(InvoiceRow.company_id == realm)
                    .group_by(InvoiceRow.status)
                ).all()
            )
            effect_counts = effects.counts(session, realm)
            succeeded = session.scalar(
                select(func.count()).where(
                    PaymentRow.company_id == realm, PaymentRow.status == PaymentStatus.SUCCEEDED.value
                )
            )
            out.append(
                CompanyReport(
                    realm_id=realm,
                    name=company.name,
                    connected=session.get(Secret, (realm, TOKENS)) is not None,
                    status=company.status,
                    status_reason=company.status_reason,
                    pause_credential=company.pause_credential,
                    paused_at=company.paused_at,
                    fix=None if company.status == "active" else fix_for(_credential(company), realm),
                    last_pull_at=company.last_pull_at,
                    open_invoices=int(by_status.get("open", 0)) + int(by_status.get("partial", 0)),
                    paid_invoices=int(by_status.get("paid", 0)),
                    effects_pending=effect_counts["pending"],
                    effects_failed=effect_counts["failed"],
                    payments_succeeded=int(succeeded or 0),
                    charges_unbooked=len(unbooked(session, realm)),
                )
            )
    return out


def unbooked_lines(ctx: Context) -> list[str]:
    """One line per charge Stripe took that QBO has not accepted yet: amount, customer, why."""
    with ctx.db.transaction() as session:
        return [held.line() for held in unbooked(session)]
