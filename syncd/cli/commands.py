"""Operating commands: init, migrate, connect, run, status."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from syncd.cli.options import state
from syncd.cli.template import render
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
    text = render(SecretBox.generate(), database)
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
    help="Catch the redirect on the local redirect URI, or paste the redirected address.",
)
def connect_quickbooks(listen: bool) -> int:
    """Connect a QuickBooks Online company (OAuth) and store its tokens encrypted."""
    from connectors.quickbooks.connect import run_connect_flow
    from syncd.bootstrap import token_store
    from syncd.store import migrate as schema

    ctx = state().context()
    try:
        schema.upgrade(ctx.db)
        realm = run_connect_flow(
            ctx.settings.qbo,
            token_store(ctx),
            open_listener=listen,
            input_fn=lambda prompt: click.prompt(prompt, prompt_suffix=""),
            output_fn=click.echo,
        )
    finally:
        ctx.db.dispose()
    if realm not in {c.realm_id for c in ctx.settings.companies}:
        click.echo(f'Add it to the configuration:\n\n[[company]]\nrealm_id = "{realm}"\n')
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
    from syncd.status import company_status, unbooked_lines
    from syncd.store import migrate as schema

    ctx = state().context()
    try:
        migrated = schema.current_revision(ctx.db) is not None
        rows = company_status(ctx) if migrated else []
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
            f"{row.realm_id:<20} {row.name[:28]:<28} {connected:<17} {row.open_invoices:>5} "
            f"{row.effects_pending:>8} {row.effects_failed:>7}  {pulled}"
        )
    if held:
        click.echo(f"{len(held)} payment(s) Stripe took are not in QuickBooks yet (retried on their own):")
        for line in held:
            click.echo(f"  {line}")
    return 0


COMMANDS = (init, migrate, connect, run, status)
