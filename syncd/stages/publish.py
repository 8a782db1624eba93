"""Publish: every payable invoice gets its portal link (and, if configured, the link in QBO)."""

from __future__ import annotations

from sqlalchemy import select

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.stages import link_writeback
from syncd.store.models import LINK_OF_INVOICE, InvoiceRow, PortalLink

BATCH = 1000


def publish(ctx: Context, realm_id: str) -> int:
    """Create missing links in batches; returns how many were created. Restartable: a link row is
    keyed by (company, invoice), and its QBO write-back is queued in the same transaction, in a
    batch effect keyed by the batch's invoices (see ``link_writeback``)."""
    writeback = ctx.settings.company(realm_id).link_writeback
    links = ctx.links
    created = 0
    while True:
        now = ctx.clock()
        with ctx.db.transaction() as session:
            missing = list(
                session.scalars(
                    select(InvoiceRow)
                    .outerjoin(PortalLink, LINK_OF_INVOICE)
                    .where(
                        InvoiceRow.company_id == realm_id,
                        InvoiceRow.status.in_([InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value]),
                        PortalLink.digest.is_(None),
                    )
                    .limit(BATCH)
                )
            )
            for invoice in missing:
                digest = links.digest(links.token(realm_id, invoice.qbo_id))
                assert digest is not None
                session.add(
                    PortalLink(digest=digest, company_id=realm_id, invoice_id=invoice.qbo_id, created_at=now)
                )
            if writeback != "off":
                # 30 per batch call, from the SyncToken and memo the pull stored: no read per invoice.
                link_writeback.enqueue_links(session, realm_id, missing, now)
        created += len(missing)
        if len(missing) < BATCH:
            return created
