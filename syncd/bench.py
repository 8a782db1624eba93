"""``syncd bench``: payment latency (webhook in → QBO Payment out), pull+publish throughput and
memory for a large company, the QBO request counts and the customer account — all over the
simulators on loopback."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import click

from connectors.quickbooks.bench import run_qbo_bench
from syncd.bench_account import bench_account
from syncd.bench_autopay import bench_autopay
from syncd.bench_books import bench_books
from syncd.bench_loop import bench_payments, bench_pull
from syncd.bench_many import bench_many
from syncd.bench_reminders import bench_reminders
from syncd.bench_scale import run_scale
from syncd.daemon import configure_logging

# -- (c) QBO request counts ----------------------------------------------------------------------


def bench_qbo_requests(invoices: int) -> dict[str, Any] | None:
    return dict(run_qbo_bench(invoices))


# -- the command ---------------------------------------------------------------------------------


def run_all(*, invoices: int, payments: int, rate: float = 5.0) -> dict[str, Any]:
    # Pull first: peak RSS is a high-water mark, and the payment run hosts both simulators.
    results: dict[str, Any] = {"pull": bench_pull(invoices)}
    results["payments"] = bench_payments(payments, rate=rate)
    results["payments_burst"] = bench_payments(payments, rate=None)
    results["qbo_requests"] = bench_qbo_requests(invoices)
    # The target is stated for 500 invoices; a toy run stays toy-sized.
    results["account"] = bench_account(invoices=min(500, invoices))
    return results


def _fmt(value: object) -> str:
    if isinstance(value, float | Decimal):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def table(results: dict[str, Any]) -> str:
    lines = []
    titles = {
        "pull": "Pull + publish (syncd process; simulator in its own process)",
        "payments": "Payment latency: Stripe webhook received -> QBO Payment created",
        "payments_burst": "Payment latency, every payment at once (a stress figure, not the target)",
        "qbo_requests": "QBO requests (connector benchmark)",
        "first_pull": "First pull + publish of a big company (syncd process; simulator in its own process)",
        "first_pull_linearity": "First pull + publish: cost per 1,000 invoices, big company vs 10,000",
        "writeback": "Publish WITH the link write-back: every payable invoice, until the last batch",
        "payments_during_first_sync": "Payment latency during a first sync: webhook -> QBO Payment",
        "many_companies": "Many companies on one daemon, all syncing: webhook -> QBO Payment, daemon memory",
        "reminders": "Reminder run: every overdue customer's message planned, rendered by the worker, its "
        "texts sent to the Twilio simulator (target < 60 s for 10,000 invoices across 5,000 customers)",
        "autopay": "Autopay due day: notices planned, queued and rendered (target: 10,000 in < 60 s), then "
        "every charge started over both simulators within Stripe's rate limits (target: 10,000 in < 10 "
        "minutes, peak RSS < 300 MB)",
        "books": "Money entries: card payments with fees booked by the daemon, QBO write calls (target "
        "<= 70 per 1,000 and 0 HTTP 429)",
        "account": "Customer account: page of a customer with 500 invoices (targets < 100 ms, <= 3 "
        "queries); sign-in link asked -> email in the mailbox (target < 1 s)",
    }
    for section, title in titles.items():
        lines.append(title)
        if section not in results:
            continue
        data = results.get(section)
        if not data:
            lines.append("  (not available)")
        else:
            width = max(len(k) for k in data)
            lines.extend(f"  {k:<{width}}  {_fmt(v)}" for k, v in data.items())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(
    *,
    invoices: int = 10_000,
    payments: int = 50,
    rate: float = 5.0,
    as_json: bool = False,
    scale: bool = False,
    pull_invoices: int = 100_000,
    many: int = 0,
    invoices_each: int = 500,
    reminders: bool = False,
    autopay: int = 0,
    books: bool = False,
    per_customer: int = 1,
) -> int:
    configure_logging("error", stream=sys.stderr)  # stdout is the figures
    if books:
        results = {"books": bench_books(payments, per_customer=per_customer)}
    elif reminders:
        results = {"reminders": bench_reminders(invoices, customers=max(1, invoices // 2))}
    elif autopay:
        results = {"autopay": bench_autopay(autopay)}
    elif many:
        results = {"many_companies": bench_many(many, invoices=invoices_each, payments=payments, rate=rate)}
    elif scale:
        results = run_scale(invoices=invoices, pull_invoices=pull_invoices, payments=payments, rate=rate)
    else:
        results = run_all(invoices=invoices, payments=payments, rate=rate)
    click.echo(json.dumps(results, indent=2, default=str) if as_json else table(results), nl=as_json)
    return 0
