"""First sync with the real daemon: ``syncd preview`` lists exactly what ``syncd run`` then sends,
changing nothing itself, for each ``first_sync`` choice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from world import Daemon, World

from syncd.cli.main import run
from syncd.links import Links
from syncd.secrets import SecretBox
from syncd.store.models import Company, Effect, InvoiceRow, PortalLink


def _open(world: World) -> dict[str, dict[str, Any]]:
    """Open invoices in the QBO simulator that have somewhere to email, by Id."""
    return {
        str(inv["Id"]): inv
        for inv in world.qbo.entities("Invoice")
        if Decimal(str(inv.get("Balance", 0))) > 0
    }


def _rows(world: World) -> dict[str, int]:
    db = world.database()
    try:
        with db.transaction() as s:
            return {
                "effects": int(s.scalar(select(func.count()).select_from(Effect)) or 0),
                "links": int(s.scalar(select(func.count()).select_from(PortalLink)) or 0),
                "invoices": int(s.scalar(select(func.count()).select_from(InvoiceRow)) or 0),
                "settled": int(
                    s.scalar(
                        select(func.count()).select_from(Company).where(Company.first_sync_at.is_not(None))
                    )
                    or 0
                ),
            }
    finally:
        db.dispose()


def _sent(
    world: World, links: Links, invoices: dict[str, dict[str, Any]]
) -> set[tuple[str, tuple[str, ...]]]:
    """(to, doc numbers) of every message in the sink, read from the links each one carries."""
    by_url = {links.url(world.qbo.realm_id, i): str(inv["DocNumber"]) for i, inv in invoices.items()}
    out = set()
    for m in world.sink.mailbox.all():
        docs = tuple(sorted({by_url[u] for u in world.portal_links(m.text) if u in by_url}))
        out.add((m.to, docs))
    return out


@pytest.mark.parametrize("policy", ["link_only", "email_open", "email_not_overdue"])
def test_preview_lists_what_the_first_run_sends_and_changes_nothing(
    world: World, daemon: Callable[[], Daemon], capsys: pytest.CaptureFixture[str], policy: str
) -> None:
    settings = world.write_config(reminders=True, first_sync=policy)
    invoices = _open(world)
    today = datetime.now(UTC).date()
    overdue = {
        str(inv["DocNumber"]) for inv in invoices.values() if date.fromisoformat(inv["DueDate"]) < today
    }
    assert overdue and len(overdue) < len(invoices), "the seeded backlog has overdue and current invoices"
    before = _rows(world)

    capsys.readouterr()
    assert run(["--config", str(world.config_path), "preview", "--json"]) == 0
    (planned,) = json.loads(capsys.readouterr().out)
    assert planned["first_sync"] is True and planned["policy"] == policy
    assert planned["new_links"] == planned["open_invoices"] == len(invoices)
    expected = {(e["to"], tuple(sorted(i["doc_number"] for i in e["invoices"]))) for e in planned["emails"]}
    docs = [d for _, ds in expected for d in ds]
    assert len(docs) == len(set(docs))  # no invoice in two messages
    assert len({to for to, _ in expected}) == len(expected)  # one message per customer
    if policy == "link_only":
        assert expected == set()
    elif policy == "email_open":
        assert set(docs) == {str(inv["DocNumber"]) for inv in invoices.values()}
    else:
        assert set(docs) == {str(inv["DocNumber"]) for inv in invoices.values()} - overdue
    assert run(["--config", str(world.config_path), "preview"]) == 0
    text = capsys.readouterr().out
    print(text)
    assert f'First sync, first_sync = "{policy}": ' in text
    assert f"{len(invoices)} new payment links would be published." in text
    if expected:
        assert f"{len(expected)} emails would be sent:" in text
        assert all(f"to {to}  template " in text for to, _ in expected)
    else:
        assert "No email would be sent." in text
    # The previews sent nothing and left syncd's state as it was.
    assert world.sink.mailbox.all() == []
    assert _rows(world) == before

    proc = daemon()
    proc.start()
    world.wait_until(
        lambda: _rows(world)["settled"] == 1 and _rows(world)["links"] == len(invoices),
        timeout=30,
        what="the first cycle",
    )
    links = Links(SecretBox(settings.secret_key).purpose_key("portal-links"), settings.public_url)
    world.wait_until(
        lambda: len(world.sink.mailbox.all()) >= len(expected), timeout=30, what=f"{len(expected)} emails"
    )
    time.sleep(5)  # a few more pull and worker cycles (pull_seconds = 2) add nothing
    assert proc.stop() == 0, proc.tail()
    assert _sent(world, links, invoices) == expected
    assert len(world.sink.mailbox.all()) == len(expected)
