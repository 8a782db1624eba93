"""Benchmark of the aging report on a big company: ``python -m syncd.reports.bench`` prints the
median time to build it (query, table and charts) and the number of SQL statements it ran."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from syncd.reports import aging
from syncd.reports.charts import render
from syncd.store.engine import Database
from syncd.store.migrate import upgrade
from syncd.store.models import Company, InvoiceRow

REALM = "bench-aging"
AS_OF = date(2026, 3, 1)


def seed(db: Database, invoices: int, customers: int) -> None:
    """``invoices`` open invoices over ``customers`` customers, due over the past 200 days and the
    next 30, one in ten in euros, one in five partly paid."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for i in range(invoices):
        total = Decimal(10 + i % 990) + Decimal(i % 100) / 100
        due = AS_OF + timedelta(days=30 - i % 231)
        rows.append(
            {
                "company_id": REALM,
                "qbo_id": str(i + 1),
                "doc_number": f"INV-{i + 1}",
                "customer_id": str(i % customers + 1),
                "customer_name": f"Customer {i % customers + 1}",
                "currency": "EUR" if i % 10 == 0 else "USD",
                "txn_date": due - timedelta(days=30),
                "due_date": due,
                "total": total,
                "balance": total / 2 if i % 5 == 0 else total,
                "tax": Decimal(0),
                "lines": [],
                "status": "partial" if i % 5 == 0 else "open",
                "sync_token": "0",
                "qbo_updated_at": now,
                "mirrored_at": now,
            }
        )
    with db.transaction() as session:
        session.add(Company(realm_id=REALM, name="Bench", timezone="UTC", created_at=now))
        session.flush()
        session.execute(insert(InvoiceRow), rows)


def measure(db: Database, runs: int) -> dict[str, Any]:
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    took = []
    cpu = []  # this process's CPU time: the figure that holds on a busy machine
    queries = []
    for _ in range(runs):
        before = statements
        start, start_cpu = time.perf_counter(), time.process_time()
        with db.transaction() as session:
            report = aging.build(session, REALM, as_of=AS_OF)
        report.table()
        charts = [render(c) for c in report.charts()]
        took.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        queries.append(statements - before)
    event.remove(db.engine, "before_cursor_execute", count)
    return {
        "customers": len(report.customers),
        "charts": len(charts),
        "median_ms": round(statistics.median(took), 1),
        "max_ms": round(max(took), 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
        "queries": max(queries),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=800)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database or f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            upgrade(db)
            seed(db, args.invoices, args.customers)
            result = {"invoices": args.invoices, **measure(db, args.runs)}
        finally:
            db.dispose()
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"aging of {result['invoices']} invoices ({result['customers']} customer lines, "
            f"{result['charts']} charts): median {result['median_ms']} ms "
            f"(CPU {result['median_cpu_ms']} ms), max {result['max_ms']} ms, "
            f"{result['queries']} SQL statement(s) per report"
        )
    return result


if __name__ == "__main__":
    main()
