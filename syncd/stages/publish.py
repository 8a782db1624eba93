"""Publish: every payable invoice gets its portal link (and, if configured, the link in QBO)."""

from __future__ import annotations

from sqlalchemy import select

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.store import effects
from syncd.store.models import InvoiceRow, PortalLink

BATCH = 1000


def publish(ctx: Context, realm_id: str) -> int:
    """Create missing links in batches; returns how many were created. Restartable: a link row is
    keyed by (company, invoice), and the QBO write-back is an effect keyed the same way."""
    writeback = ctx.settings.company(realm_id).link_writeback
    links = ctx.links
    created = 0
    while True:
        now = ctx.clock()
        with ctx.db.transaction() as session:
            missing = list(
                session.scalars(
                    select(InvoiceRow.qbo_id)
                    .outerjoin(
                        PortalLink,
                        (PortalLink.company_id == InvoiceRow.company_id)
                        & (PortalLink.invoice_id == InvoiceRow.qbo_id),
                    )
                    .where(
                        InvoiceRow.company_id == realm_id,
                        InvoiceRow.status.in_([InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value]),
                        PortalLink.digest.is_(None),
                    )
                    .limit(BATCH)
                )
            )
            for invoice_id in missing:
                digest = links.digest(links.token(realm_id, invoice_id))
                assert digest is not None
                session.add(
                    PortalLink(digest=digest, company_id=realm_id, invoice_id=invoice_id, created_at=now)
                )
                if writeback != "off":
                    effects.enqueue(
                        session,
                        key=f"qbo:link:{realm_id}:{invoice_id}",
                        kind="qbo.invoice_link",
                        company_id=realm_id,
                        payload={"invoice_id": invoice_id},
                        now=now,
                    )
        created += len(missing)
        if len(missing) < BATCH:
            return created
