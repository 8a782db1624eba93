"""``syncd simulate quickbooks|stripe|twilio|mail``: the outside services on this machine, each printing
the ``syncd.toml`` settings that point syncd at it."""

from __future__ import annotations

import click

from connectors.console import facts, fragment, port_in_use, toml_table, until_stopped, wait
from connectors.quickbooks.simulator.cli import command as quickbooks
from connectors.sms.simulator.cli import command as twilio
from connectors.stripe.simulator.cli import command as stripe

SMTP_PORT = 1025
MAILBOX_PORT = 8025


@click.group()
def simulate() -> None:
    """Serve a simulator of an outside service (see the README: run syncd against the simulators)."""


@simulate.command("mail")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--smtp-port", default=SMTP_PORT, show_default=True, help="SMTP port (0: any free one).")
@click.option("--port", default=MAILBOX_PORT, show_default=True, help="Mailbox page port (0: any free one).")
def mail(host: str, smtp_port: int, port: int) -> int:
    """An SMTP server that keeps every message, and a mailbox page to read them."""
    from connectors.email.sink import SmtpSink
    from connectors.serving import ThreadedServer
    from syncd.web.mailbox import mailbox_app

    with port_in_use("--smtp-port", smtp_port):
        sink = SmtpSink(host, smtp_port)
    try:
        with port_in_use("--port", port):
            server = ThreadedServer(mailbox_app(sink.mailbox), host, port)
    except click.ClickException:
        sink.stop()
        raise
    with until_stopped() as done, sink, server as page:
        rows = {"SMTP": f"{sink.host}:{sink.port} (plain, no login)", "Mailbox": f"{page.url}/mailbox"}
        smtp = {"host": sink.host, "port": sink.port, "security": "none", "from": "billing@example.com"}
        paste = fragment("Paste into syncd.toml in place of its [smtp] table:", [toml_table("smtp", smtp)])
        click.echo("\n".join([f"Mail sink at {sink.host}:{sink.port}", facts(rows), "", paste]))
        click.echo("\nPress Ctrl-C to stop.")
        wait(done)
    return 0


simulate.add_command(quickbooks)
simulate.add_command(stripe)
simulate.add_command(twilio)
