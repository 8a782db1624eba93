"""Operating commands: init, migrate, connect, run, status, resume."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import click

from syncd.cli.options import state
from syncd.cli.text import shown
from syncd.config.render import render_init
from syncd.secrets import SecretBox


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path | None, force: bool) -> int:
    """Write a commented configuration with a fresh secret key (default: the --config path)."""
    target = path or state().config_path
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to overwrite it (and its secret key)")
    target.parent.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{(target.parent.resolve() / 'syncd.db').as_posix()}"
    text = render_init(SecretBox.generate(), database)
    # The file holds the secret key: readable by its owner only, from the first byte.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(target, 0o600)
    click.echo(f"Wrote {target}. Next: fill in [quickbooks], [stripe] and [smtp], then `syncd migrate`.")
    return 0


@click.command()
def migrate() -> int:
    """Create or upgrade the database schema."""
    from syncd.store import migrate as schema
    from syncd.store.engine import Database

    db = Database(state().settings().database_url)
    try:
        schema.upgrade(db)
        click.echo(f"Database at revision {schema.current_revision(db)}.")
    finally:
        db.dispose()
    return 0


@click.group()
def connect() -> None:
    """Connect an outside account."""


@connect.command("quickbooks")
@click.option(
    "--listen/--paste",
    default=True,
    help="Catch the redirect on the redirect URI (here, or in the running syncd that serves it), "
    "or paste the redirected address.",
)
def connect_quickbooks(listen: bool) -> int:
    """Connect a QuickBooks Online company (OAuth) and store its tokens encrypted."""
    from connectors.quickbooks.connect import run_connect_flow
    from syncd.context import token_store
    from syncd.reconnect import wait_for_daemon
    from syncd.store import connects
    from syncd.store import migrate as schema

    ctx = state().context()
    oauth_state = secrets.token_urlsafe(24)
    wait = 600.0
    try:
        schema.upgrade(ctx.db)
        if listen:
            # A running syncd serving the redirect URI finishes the connection if it gets there.
            connects.open_attempt(ctx.db, oauth_state, now=ctx.clock(), ttl=timedelta(seconds=wait))
        try:
            realm = run_connect_flow(
                ctx.settings.qbo,
                token_store(ctx),
                open_listener=listen,
                input_fn=lambda prompt: click.prompt(prompt, prompt_suffix=""),
                output_fn=click.echo,
                timeout=wait,
                state=oauth_state,
                handoff=lambda show: wait_for_daemon(ctx, oauth_state, show, say=click.echo, timeout=wait),
            )
        finally:
            if listen:
                connects.close(ctx.db, oauth_state)
    finally:
        ctx.db.dispose()
    if realm not in {c.realm_id for c in ctx.settings.companies}:
        click.echo(f'Add it to the configuration:\n\n[[company]]\nrealm_id = "{realm}"\n')
    return 0


@connect.command("stripe")
def connect_stripe() -> int:
    """Register syncd's webhook endpoint at Stripe (idempotent) and store its secret encrypted."""
    from connectors.stripe.endpoints import WebhookEndpoints
    from syncd.connect_stripe import connect as register
    from syncd.connect_stripe import describe
    from syncd.store import migrate as schema

    ctx = state().context()
    try:
        schema.upgrade(ctx.db)
        with WebhookEndpoints(ctx.settings.stripe) as endpoints:
            outcome = register(ctx.settings, endpoints, ctx.db, ctx.box, ctx.clock)
    finally:
        ctx.db.dispose()
    for line in describe(outcome, ctx.settings):
        click.echo(line)
    return 0


@click.command()
def run() -> int:
    """Run the daemon: scheduler, webhooks and payment portal (until SIGTERM/SIGINT)."""
    from syncd.daemon import run as run_daemon

    return run_daemon(state().settings())


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> int:
    """Per company: connection, last pull, open invoices, pending and failed effects."""
    from syncd.status import company_reports, unbooked_lines
    from syncd.store import migrate as schema

    ctx = state().context()
    try:
        migrated = schema.current_revision(ctx.db) is not None
        rows = company_reports(ctx) if migrated else []
        held = unbooked_lines(ctx) if migrated else []
    finally:
        ctx.db.dispose()
    if not migrated:
        click.echo("syncd: the database has no schema yet: run `syncd migrate`", err=True)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=2))
        return 0
    if not rows:
        click.echo("No companies yet.")
        return 0
    header = (
        f"{'company':<20} {'name':<28} {'status':<17} {'open':>5} {'pending':>8} {'failed':>7}  last pull"
    )
    click.echo(header)
    for row in rows:
        connected = row.status if row.connected else "not connected"
        pulled = row.last_pull_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_pull_at else "never"
        click.echo(
            f"{shown(row.realm_id):<20} {shown(row.name)[:28]:<28} {connected:<17} {row.open_invoices:>5} "
            f"{row.effects_pending:>8} {row.effects_failed:>7}  {pulled}"
        )
        if row.status != "active":
            facts = [f"{row.pause_credential} refused"] if row.pause_credential else []
            facts += [f"since {row.paused_at:%Y-%m-%d %H:%M UTC}"] if row.paused_at else []
            detail = f" ({', '.join(facts)})" if facts else ""
            click.echo(f"    why: {shown(row.status_reason or 'paused')}{detail}")
            click.echo(f"    fix: {row.fix}")
    if held:
        click.echo(f"{len(held)} payment(s) Stripe took are not in QuickBooks yet (retried on their own):")
        for line in held:
            click.echo(f"  {shown(line)}")
    return 0


@click.command()
@click.option("--company", "realm", required=True, help="The QBO company id (realm) to resume.")
def resume(realm: str) -> int:
    """Resume a paused company: its jobs run again and what waited for it (payments) goes out."""
    from syncd import companies

    state().settings().company(realm)
    ctx = state().context()
    try:
        resumed = companies.resume(ctx, realm)
    finally:
        ctx.db.dispose()
    if resumed:
        click.echo(f"Resumed company {realm}; a running syncd picks it up at its next worker run.")
    else:
        click.echo(f"Company {realm} is not paused.")
    return 0


COMMANDS = (init, migrate, connect, run, status, resume)
