"""A syncd Context over the in-memory fakes: one company ``r1`` (with ``company`` settings), the
given QuickBooks fake, and a fixed clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

from fakes.mail import FakeMailer
from fakes.quickbooks import FakeQuickBooks
from fakes.stripe import FakeStripe
from syncd import config
from syncd.context import Context
from syncd.ports.quickbooks import QboApp
from syncd.secrets import SecretBox
from syncd.store.engine import Database


def fakes_context(
    db: Database,
    tmp_path: Path,
    qbo: FakeQuickBooks,
    *,
    at: datetime,
    company: dict[str, Any] | None = None,
    mailer: FakeMailer | None = None,
) -> Context:
    settings = config.parse(
        {
            "secret_key": SecretBox.generate(),
            "web": {"public_url": "https://pay.example.com"},
            "database": {"url": f"sqlite:///{tmp_path / 'unused.db'}"},
            "company": [{"realm_id": "r1", **(company or {})}],
        }
    )
    return Context(
        settings=settings,
        db=db,
        box=SecretBox(settings.secret_key),
        qbo_factory=lambda realm: qbo,
        stripe=FakeStripe(clock=lambda: at),
        mailer=mailer or FakeMailer(),
        qbo_app=cast(QboApp, None),  # no webhook or sign-in
        clock=lambda: at,
    )
