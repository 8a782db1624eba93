"""Commands for trying and measuring syncd without accounts: demo, simulate, bench."""

from __future__ import annotations

import errno

import click

from syncd.cli.simulate import simulate


@click.command()
@click.option(
    "--port", default=8000, show_default=True, help="Port of the portal and webhooks (0: any free)."
)
@click.option("--invoices", default=12, show_default=True, help="Open invoices in the simulated company.")
@click.option("--no-browser-hints", is_flag=True, help="Do not print where to click.")
def demo(port: int, invoices: int, no_browser_hints: bool) -> int:
    """The whole loop on this machine: QBO and Stripe simulators, a mailbox, the daemon."""
    from syncd.demo import run_demo

    try:
        return run_demo(port=port, invoices=invoices, hints=not no_browser_hints)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} is in use: try `syncd demo --port 0`") from None
        raise


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--invoices", default=10_000, show_default=True, help="Invoices for the pull benchmark.")
@click.option("--payments", default=50, show_default=True, help="Payments for the latency benchmark.")
@click.option(
    "--rate", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="Payments per second."
)
@click.option(
    "--scale",
    is_flag=True,
    help="The scale run instead: write-back of --invoices, a --pull-invoices first pull, "
    "--payments paid at --rate during a first sync (takes minutes: QBO allows 40 batch calls a minute).",
)
@click.option(
    "--pull-invoices", default=100_000, show_default=True, help="Invoices for the --scale first pull."
)
@click.option(
    "--many",
    default=0,
    type=click.IntRange(min=0),
    help="The many-companies run instead: one daemon with this many simulated companies of "
    "--invoices-each invoices, --payments paid over all of them at --rate while they sync.",
)
@click.option("--invoices-each", default=500, show_default=True, help="Invoices per company for --many.")
@click.option(
    "--reminders",
    is_flag=True,
    help="The reminder run instead: --invoices overdue invoices across half as many customers, "
    "every message planned and rendered, its texts sent to the Twilio simulator.",
)
@click.option(
    "--autopay",
    default=0,
    type=click.IntRange(min=0),
    help="The autopay due day instead, for this many enrolled customers: their notices planned, queued "
    "and rendered (target: 10,000 in < 60 s), then every charge started over both simulators within "
    "Stripe's rate limits (target: 10,000 in < 10 minutes, memory < 300 MB).",
)
@click.option(
    "--books",
    is_flag=True,
    help="The books run instead: --payments card payments (use 1000) paid all at once and booked with "
    "their fees by the daemon; QBO write calls, batch calls and 429s (target: <= 70 per 1,000, 0).",
)
@click.option(
    "--per-customer",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="For --books: at most this many of the payments from one customer (theirs are booked in turn).",
)
def bench(
    as_json: bool,
    invoices: int,
    payments: int,
    rate: float,
    scale: bool,
    pull_invoices: int,
    many: int,
    invoices_each: int,
    reminders: bool,
    autopay: int,
    books: bool,
    per_customer: int,
) -> int:
    """Measure payment latency, pull throughput and memory, and QBO request counts."""
    from syncd.bench import main as run_bench

    return run_bench(
        invoices=invoices,
        payments=payments,
        rate=rate,
        as_json=as_json,
        scale=scale,
        pull_invoices=pull_invoices,
        many=many,
        invoices_each=invoices_each,
        reminders=reminders,
        autopay=autopay,
        books=books,
        per_customer=per_customer,
    )


COMMANDS = (demo, simulate, bench)
