"""Print the staff overview's speed: `python tests/bench/staff_overview.py [invoices] [--postgres URL]`.

One company with that many invoices (10,000 by default; a tenth overdue, plus failed effects,
holds and entry reviews), a signed-in owner, the overview page fetched 50 times in process:
median and p95 milliseconds, and the queries one page view runs (target: < 300 ms, <= 5)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from sqlalchemy import event, insert
from staff_console import A, Clock, console_context, seed_company, signed_in

from syncd.domain.staff import StaffRole
from syncd.store.models import InvoiceRow

RUNS = 50


def _invoices(ctx: Any, count: int) -> None:
    now = ctx.clock()
    today = now.date()
    rows = [
        {
            "company_id": A,
            "qbo_id": f"b{n}",
            "doc_number": f"B-{n}",
            "customer_id": f"c{n % 700}",
            "customer_name": f"Customer {n % 700}",
            "currency": "USD",
            "txn_date": today - timedelta(days=40),
            "due_date": today + timedelta(days=-5 if n % 10 == 0 else 25),
            "total": Decimal("120.00"),
            "balance": Decimal("120.00"),
            "tax": Decimal(0),
            "lines": [],
            "status": "open" if n % 4 else "paid",
            "sync_token": "0",
            "qbo_updated_at": now,
            "mirrored_at": now,
        }
        for n in range(count)
    ]
    with ctx.db.transaction() as s:
        s.execute(insert(InvoiceRow), rows)


def main(argv: list[str]) -> int:
    invoices = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 10_000
    url = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    with tempfile.TemporaryDirectory() as tmp:
        contexts = console_context(Path(tmp), Clock(), url)
        ctx = next(contexts)
        seed_company(ctx, A)
        _invoices(ctx, invoices)
        client = signed_in(ctx, "owner@bench.test", {A: StaffRole.OWNER})
        client.get("/staff")
        queries: list[str] = []

        def note(*args: Any) -> None:
            if not str(args[2]).startswith("BEGIN"):
                queries.append(str(args[2]))

        event.listen(ctx.db.engine, "before_cursor_execute", note)
        client.get("/staff")
        event.remove(ctx.db.engine, "before_cursor_execute", note)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            answer = client.get("/staff")
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
        client.close()
        contexts.close()
    timings.sort()
    print(f"staff overview, {invoices} invoices, {ctx.db.dialect}:")
    print(f"  median {statistics.median(timings):.1f} ms, p95 {timings[int(RUNS * 0.95) - 1]:.1f} ms")
    print(f"  queries per page view: {len(queries)} (target <= 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
