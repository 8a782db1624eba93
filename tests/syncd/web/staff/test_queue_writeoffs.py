"""The queue's "Write-offs to approve": owners and bookkeepers approve or decline after a
confirmation (CSRF-checked, audited on the Activity page); read-only members only see it; a
write-off of another company cannot be decided from this one's page."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from staff_console import A, B, signed_in, small_debt, token

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store.models import Effect, InvoiceRow, WriteOff


def test_an_owner_approves_a_write_off_after_confirming_and_it_is_audited(ctx: Context) -> None:
    proposed = small_debt(ctx)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    queue = client.get(f"/staff/c/{A}/queue")
    assert "Write-offs to approve (1)" in queue.text and f'data-writeoff="{proposed}"' in queue.text
    assert "Blue Bottle Bakery" in queue.text and "$45.00" in queue.text
    assert 'action="/staff/c/111/queue/approve-writeoff"' in queue.text
    fields = {"csrf_token": token(queue), "writeoff": str(proposed)}

    forged = client.post(
        f"/staff/c/{A}/queue/approve-writeoff", data={**fields, "csrf_token": "x", "confirm": "yes"}
    )
    assert forged.status_code == 403
    asked = client.post(f"/staff/c/{A}/queue/approve-writeoff", data=fields)
    assert asked.status_code == 200 and "Please confirm" in asked.text and "credit memo" in asked.text
    with ctx.db.transaction() as s:
        assert s.get(WriteOff, proposed).status == "proposed"  # type: ignore[union-attr]
    done = client.post(f"/staff/c/{A}/queue/approve-writeoff", data={**fields, "confirm": "yes"})
    assert done.status_code == 200 and f"Write-off {proposed} approved: 45.00 USD" in done.text
    with ctx.db.transaction() as s:
        row = s.get(WriteOff, proposed)
        assert row is not None and (row.status, row.decided_by) == ("approved", "owner@firm.test")
        assert [e.key for e in s.scalars(select(Effect).where(Effect.kind == "qbo.write_off"))] == [
            f"qbo:write_off:{A}:{proposed}"
        ]
    again = client.post(f"/staff/c/{A}/queue/decline-writeoff", data={**fields, "confirm": "yes"})
    assert again.status_code == 409 and "was approved already" in again.text
    assert "Write-offs to approve (0)" in client.get(f"/staff/c/{A}/queue").text
    activity = client.get(f"/staff/c/{A}/activity").text
    assert "queue.approve-writeoff" in activity and "owner@firm.test" in activity


def test_a_bookkeeper_declines_and_a_changed_balance_is_refused(ctx: Context) -> None:
    proposed = small_debt(ctx)
    client = signed_in(ctx, "books@firm.test", {A: StaffRole.BOOKKEEPER, B: StaffRole.BOOKKEEPER})
    queue = client.get(f"/staff/c/{A}/queue")
    fields = {"csrf_token": token(queue), "writeoff": str(proposed), "confirm": "yes"}
    with ctx.db.transaction() as s:
        invoice = s.get(InvoiceRow, (A, "1"))
        assert invoice is not None
        invoice.balance = Decimal("30.00")  # part paid since the proposal
    refused = client.post(f"/staff/c/{A}/queue/approve-writeoff", data=fields)
    assert (
        refused.status_code == 409
        and "owes 30.00 USD overdue now, not the 45.00 USD proposed" in refused.text
    )
    elsewhere = client.post(f"/staff/c/{B}/queue/decline-writeoff", data=fields)
    assert elsewhere.status_code == 409 and f"no write-off {proposed} in company {B}" in elsewhere.text
    declined = client.post(f"/staff/c/{A}/queue/decline-writeoff", data=fields)
    assert declined.status_code == 200 and "declined" in declined.text
    with ctx.db.transaction() as s:
        assert s.get(WriteOff, proposed).status == "declined"  # type: ignore[union-attr]
        assert s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).all() == []


def test_read_only_members_see_the_write_offs_but_cannot_decide(ctx: Context) -> None:
    proposed = small_debt(ctx)
    client = signed_in(ctx, "viewer@firm.test", {A: StaffRole.READ_ONLY})
    queue = client.get(f"/staff/c/{A}/queue")
    assert f'data-writeoff="{proposed}"' in queue.text and "approve-writeoff" not in queue.text
    fields = {"csrf_token": token(queue), "writeoff": str(proposed), "confirm": "yes"}
    assert client.post(f"/staff/c/{A}/queue/approve-writeoff", data=fields).status_code == 403
    with ctx.db.transaction() as s:
        assert s.get(WriteOff, proposed).status == "proposed"  # type: ignore[union-attr]
