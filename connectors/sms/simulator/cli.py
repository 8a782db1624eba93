"""``syncd simulate twilio`` and ``python -m connectors.sms.simulator``: serve a simulated Twilio
account until interrupted, printing what syncd needs to use it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import click

from connectors import console
from connectors.sms.simulator.simulator import DEFAULT_ACCOUNT, DEFAULT_NUMBER, TwilioSimulator

DEFAULT_PORT = 12112
PROG = "python -m connectors.sms.simulator"


@console.simulator_command("twilio", DEFAULT_PORT)
@click.option("--account-sid", default=DEFAULT_ACCOUNT, show_default=True, help="The account SID accepted.")
@click.option("--auth-token", default="simulated-auth-token", show_default=True, help="Signs webhooks.")
@click.option("--number", default=DEFAULT_NUMBER, show_default=True, help="The account's phone number.")
@click.option("--mps", default=1.0, show_default=True, help="Messages a second per sender (the rest queue).")
@click.option(
    "--sms-url",
    default=None,
    help="Where texts to the number are posted: syncd's <public_url>/webhooks/twilio.",
)
def command(**options: Any) -> int:
    """A Twilio account: Messages API, signed status callbacks and incoming texts, a phone page."""
    return serve(**options)


def serve(*, stop: threading.Event | None = None, **options: Any) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set, for callers embedding it)."""
    with console.port_in_use("--port", options["port"]):
        sim = TwilioSimulator(
            options["account_sid"],
            options["auth_token"],
            number=options["number"],
            mps=options["mps"],
            sms_url=options["sms_url"],
            host=options["host"],
            port=options["port"],
        )
    return console.serve_until_stopped(sim, lambda: describe(sim), stop)


def settings(sim: TwilioSimulator) -> dict[str, object]:
    """The ``[company.sms]`` table that points a company's texts at this simulator."""
    return {
        "enabled": True,
        "account_sid": sim.account_sid,
        "auth_token": sim.auth_token,
        "from_number": sim.number,
        "api_base": sim.url,
    }


def describe(sim: TwilioSimulator) -> str:
    rows = {
        "API base": sim.url,
        "Account SID": sim.account_sid,
        "Number": sim.number,
        "Phone page": sim.phone_url(),
        "Incoming texts to": sim.sms_url or "nowhere yet: pass --sms-url <public_url>/webhooks/twilio",
    }
    paste = console.fragment(
        "Paste into syncd.toml under the company's [[company]] table:",
        [console.toml_table("company.sms", settings(sim))],
    )
    return console.screen(f"Twilio simulator at {sim.url}", rows, paste)


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Parse ``argv`` as the command does and serve (tests embed it with ``stop``)."""
    return serve(stop=stop, **console.parse(command, PROG, argv))
