"""``syncd simulate stripe`` and ``python -m connectors.stripe.simulator``: serve a simulated Stripe
account until interrupted, printing what syncd needs to use it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import click

from connectors import console
from connectors.stripe.simulator.simulator import StripeSimulator

DEFAULT_PORT = 12111
PROG = "python -m connectors.stripe.simulator"


@console.simulator_command("stripe", DEFAULT_PORT)
@click.option("--api-key", default="sk_test_sim", show_default=True, help="The one secret key accepted.")
@click.option("--public-url", default=None, help="Base URL payers reach the hosted page on (default: own).")
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    metavar="URL[=SECRET]",
    help="Register an endpoint for every event at start (a whsec_ secret is made when none is given). "
    "`syncd connect stripe` registers syncd's own through the API instead.",
)
@click.option("--fee-percent", default="2.9", show_default=True, help="Card fee, percent.")
@click.option("--fee-fixed-minor", default=30, show_default=True, help="Card fee, fixed, minor units.")
@click.option("--ach-fee-percent", default="0.8", show_default=True, help="Bank debit fee, percent.")
@click.option("--ach-fee-cap-minor", default=500, show_default=True, help="Bank debit fee cap, minor units.")
@click.option("--payout-schedule-days", default=2, show_default=True, help="Days before funds are paid out.")
@click.option("--settlement-currency", default=None, help="Convert other currencies into this one.")
@click.option("--automatic-payouts/--no-automatic-payouts", default=True, show_default=True)
def command(**options: Any) -> int:
    """A Stripe account: API, hosted Checkout page, signed webhooks."""
    return serve(**options)


def serve(*, stop: threading.Event | None = None, **options: Any) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set, for callers embedding it)."""
    with console.port_in_use("--port", options["port"]):
        sim = StripeSimulator(
            api_key=options["api_key"],
            fee_percent=Decimal(options["fee_percent"]),
            fee_fixed_minor=options["fee_fixed_minor"],
            ach_fee_percent=Decimal(options["ach_fee_percent"]),
            ach_fee_cap_minor=options["ach_fee_cap_minor"],
            payout_schedule_days=options["payout_schedule_days"],
            host=options["host"],
            port=options["port"],
            public_url=options["public_url"],
            automatic_payouts=options["automatic_payouts"],
            settlement_currency=options["settlement_currency"],
        )
    registered = []
    for spec in options["webhooks"]:
        url, _, secret = spec.partition("=")
        registered.append(sim.add_webhook_endpoint(url, secret or None))
    return console.serve_until_stopped(sim, lambda: describe(sim, registered), stop)


def settings(sim: StripeSimulator, registered: Sequence[dict[str, Any]]) -> dict[str, object]:
    """The ``[stripe]`` table that points syncd at this simulator."""
    table: dict[str, object] = {"api_key": sim.api_key, "api_base": sim.url}
    if len(registered) == 1:
        table["webhook_secret"] = registered[0]["secret"]
    return table


def describe(sim: StripeSimulator, registered: Sequence[dict[str, Any]]) -> str:
    rows = {
        "API base": sim.url,
        "API key": sim.api_key,
        "API version": sim.api_version,
        "Hosted pages": f"{sim.url}/pay/<checkout session id>",
    }
    for endpoint in registered:
        rows[f"Webhook {endpoint['id']}"] = f"{endpoint['url']} (signing secret {endpoint['secret']})"
    if not registered:
        rows["Webhooks"] = "none yet: `syncd connect stripe` registers syncd's endpoint"
    note = "Paste into syncd.toml in place of its [stripe] table"
    note += ":" if registered else ", then `syncd connect stripe`:"
    paste = console.fragment(note, [console.toml_table("stripe", settings(sim, registered))])
    head = f"Stripe simulator at {sim.url}"
    return console.screen(head, rows, paste)


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Parse ``argv`` as the command does and serve (tests embed it with ``stop``)."""
    return serve(stop=stop, **console.parse(command, PROG, argv))
