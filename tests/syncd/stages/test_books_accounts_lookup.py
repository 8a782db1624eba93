"""The books' QBO accounts are looked up once per company and currency, even when a burst of the
company's first payments asks for them from many threads at the same time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from fakes.context import fakes_context
from fakes.quickbooks import FakeQuickBooks

from syncd.companies import ensure_companies
from syncd.domain import BooksAccounts
from syncd.ports.quickbooks import AccountNames
from syncd.stages.accounts import books_accounts
from syncd.store.engine import Database

AT = datetime(2026, 5, 4, 15, tzinfo=UTC)


class SlowLookups(FakeQuickBooks):
    """Counts account lookups, each taking long enough for the other threads to pile up."""

    def __init__(self) -> None:
        super().__init__("r1", clock=lambda: AT)
        self.lookups = 0
        self._count = threading.Lock()

    def ensure_accounts(self, currency: str, names: AccountNames) -> BooksAccounts:
        with self._count:
            self.lookups += 1
        time.sleep(0.2)
        return super().ensure_accounts(currency, names)


def test_a_burst_of_first_payments_looks_the_accounts_up_once(sqlite_db: Database, tmp_path: Path) -> None:
    qbo = SlowLookups()
    ctx = fakes_context(sqlite_db, tmp_path, qbo, at=AT)
    ensure_companies(ctx)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: books_accounts(ctx, "r1", "usd"), range(8)))
    assert qbo.lookups == 1
    assert len({f.clearing for f in found}) == 1
    assert books_accounts(ctx, "r1", "USD") == found[0] and qbo.lookups == 1  # kept from now on
