"""``syncd simulate quickbooks`` and ``python -m connectors.quickbooks.simulator``: serve a seeded
simulated QBO company until interrupted, printing what syncd needs to connect to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import click

from connectors import console
from connectors.quickbooks.simulator.simulator import QboSimulator

DEFAULT_PORT = 12110
PROG = "python -m connectors.quickbooks.simulator"


@console.simulator_command("quickbooks", DEFAULT_PORT)
@click.option("--invoices", default=50, show_default=True, help="Open invoices in the seeded company.")
@click.option("--seed", default=0, show_default=True, help="Seed of the generated company.")
@click.option("--realm-id", default="9130350000000001", show_default=True, help="The company id.")
@click.option(
    "--companies",
    default=1,
    show_default=True,
    help="Companies served (realm ids counting up from --realm-id, seeds from --seed), each seeded alike.",
)
@click.option("--client-id", default="sim-client", show_default=True, help="The OAuth app's client id.")
@click.option("--client-secret", default="sim-secret", show_default=True, help="The OAuth app's secret.")
@click.option(
    "--verifier-token", default="sim-verifier", show_default=True, help="Signs webhooks (intuit-signature)."
)
@click.option(
    "--webhook-url",
    default=None,
    help="Where change notifications go, e.g. http://127.0.0.1:8000/webhooks/quickbooks.",
)
@click.option(
    "--webhook-format",
    type=click.Choice(["legacy", "cloudevents"]),
    default="legacy",
    show_default=True,
    help="QBO's eventNotifications body or the newer CloudEvents array.",
)
@click.option("--currencies", default="USD,CAD", show_default=True, help="Home currency first.")
@click.option("--company-name", default="Northwind IT Services", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the settings and a token pair as JSON.")
def command(**options: Any) -> int:
    """A seeded QuickBooks Online company: API, OAuth and signed webhooks."""
    return serve(**options)


def serve(*, stop: threading.Event | None = None, **options: Any) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set, for callers embedding it)."""
    sim = QboSimulator(
        seed=options["seed"],
        invoices=options["invoices"],
        realm_id=options["realm_id"],
        client_id=options["client_id"],
        client_secret=options["client_secret"],
        verifier_token=options["verifier_token"],
        webhook_url=options["webhook_url"],
        currencies=tuple(c.strip().upper() for c in options["currencies"].split(",") if c.strip()),
        host=options["host"],
        port=options["port"],
        webhook_format=options["webhook_format"],
        company_name=options["company_name"],
    )
    for offset in range(1, options.get("companies", 1)):
        sim.add_company(
            realm_for(options["realm_id"], offset),
            seed=options["seed"] + offset,
            invoices=options["invoices"],
            company_name=f"{options['company_name']} {offset + 1}",
        )
    text = as_json if options["as_json"] else describe
    with console.port_in_use("--port", options["port"]):
        return console.serve_until_stopped(sim, lambda: text(sim, options), stop)


def realm_for(first: str, offset: int) -> str:
    """The realm id of the ``offset``-th extra company (ids count up from the first)."""
    return str(int(first) + offset)


def settings(sim: QboSimulator, options: dict[str, Any]) -> dict[str, object]:
    """The ``[quickbooks]`` table that points syncd at this simulator."""
    return {
        "environment": sim.discovery_url,
        "api_base_url": sim.api_base_url,
        "client_id": options["client_id"],
        "client_secret": options["client_secret"],
        "webhook_verifier_token": options["verifier_token"],
    }


def describe(sim: QboSimulator, options: dict[str, Any]) -> str:
    webhook = options["webhook_url"] or "nowhere (start with --webhook-url <syncd>/webhooks/quickbooks)"
    rows = {
        "Books (browser)": sim.url + "/",
        "Discovery URL": sim.discovery_url,
        "API base": sim.api_base_url,
        "Realm id": sim.realm_id,
        "Client id": options["client_id"],
        "Client secret": options["client_secret"],
        "Verifier token": options["verifier_token"],
        "Webhooks go to": webhook,
    }
    head = (
        f"QuickBooks simulator: {options['company_name']}, {options['invoices']} open invoices, at {sim.url}"
    )
    paste = console.fragment(
        "Paste into syncd.toml in place of its [quickbooks] table, the [[company]] table at the end; "
        "then `syncd connect quickbooks`:",
        [
            console.toml_table("quickbooks", settings(sim, options)),
            # A rehearsal's customers are simulated: email the backlog so the whole loop shows.
            console.toml_table("company", {"realm_id": sim.realm_id, "first_sync": "email_open"}, array=True),
        ],
    )
    return console.screen(head, rows, paste)


def as_json(sim: QboSimulator, options: dict[str, Any]) -> str:
    tokens = sim.mint_tokens()
    info = {
        "url": sim.url,
        "ui_url": sim.url + "/",
        "discovery_url": sim.discovery_url,
        "api_base_url": sim.api_base_url,
        "authorize_url": sim.authorize_url,
        "realm_id": sim.realm_id,
        "client_id": options["client_id"],
        "client_secret": options["client_secret"],
        "webhook_verifier_token": options["verifier_token"],
        "webhook_url": options["webhook_url"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
    }
    if options.get("companies", 1) > 1:
        # Every company's own token pair, the first one included.
        info["companies"] = [
            {"realm_id": realm, "access_token": pair["access_token"], "refresh_token": pair["refresh_token"]}
            for realm in (realm_for(sim.realm_id, i) for i in range(options["companies"]))
            for pair in (sim.mint_tokens(realm),)
        ]
    return json.dumps(info, indent=2)


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Parse ``argv`` as the command does and serve (tests embed it with ``stop``)."""
    return serve(stop=stop, **console.parse(command, PROG, argv))
