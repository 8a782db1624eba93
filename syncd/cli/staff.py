"""``syncd staff``: the people who may sign in to the staff console, and their role per company."""

from __future__ import annotations

import click

from syncd.cli.options import opened_context
from syncd.cli.text import shown
from syncd.domain.staff import StaffRole

ROLES = [r.value for r in StaffRole]


@click.group()
def staff() -> None:
    """Staff console users: add the first owner, remove someone, reset a lost password or phone."""


@staff.command("add")
@click.argument("email")
@click.option("--company", "realm_id", required=True, help="The company (QBO realm id).")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Their role in that company.")
@click.option("--name", default=None, help="Their name, as the console shows it.")
def add(email: str, realm_id: str, role: str, name: str | None) -> int:
    """Give EMAIL a role in a company (run again for another company). A new person gets a one-time
    password, printed once: the console asks them for their own at first sign-in."""
    from syncd import companies
    from syncd.store import migrate as schema
    from syncd.store import staff as roster

    with opened_context() as ctx:
        ctx.settings.company(realm_id)
        schema.upgrade(ctx.db)
        companies.ensure_companies(ctx)
        with ctx.db.transaction() as session:
            user, password = roster.add(
                session, email, company_id=realm_id, role=StaffRole(role), name=name, now=ctx.clock()
            )
            who = user.email
        url = ctx.settings.public_url.rstrip("/")
    click.echo(f"{shown(who)} is {role} in company {realm_id}.")
    if password is not None:
        click.echo(f"One-time password (shown once): {password}")
        click.echo(f"Sign in at {url}/staff/sign-in; the console then asks for a password of their own.")
    return 0


@staff.command("remove")
@click.argument("email")
def remove(email: str) -> int:
    """Take EMAIL out of every company, end their sessions and forget their passkeys at once (their
    actions stay audited)."""
    from syncd.store import staff as roster

    with opened_context() as ctx, ctx.db.transaction() as session:
        user = roster.remove(session, email, now=ctx.clock())
        who = user.email
    click.echo(f"Removed {shown(who)}: every session of theirs has ended.")
    return 0


@staff.command("reset")
@click.argument("email")
def reset(email: str) -> int:
    """A new one-time password for EMAIL; their authenticator app and passkeys are forgotten, their
    sessions end."""
    from syncd.store import staff as roster

    with opened_context() as ctx, ctx.db.transaction() as session:
        password = roster.reset(session, email, now=ctx.clock())
    click.echo(f"One-time password for {shown(roster.normal_email(email))} (shown once): {password}")
    click.echo("Their authenticator app and passkeys were forgotten and every session of theirs ended.")
    return 0


@staff.command("list")
def listing() -> int:
    """Everyone who may sign in, with their role in each company."""
    from syncd.store import staff as roster

    with opened_context() as ctx, ctx.db.transaction() as session:
        members = roster.listed(session)
    for m in members:
        roles = ", ".join(f"{company}:{role.value}" for company, role in sorted(m.roles.items())) or "no role"
        flags = (" (removed)" if m.disabled else "") + (" [authenticator]" if m.totp else "")
        click.echo(f"{shown(m.email):<32} {shown(m.name)[:24]:<24} {roles}{flags}")
    click.echo(f"{len(members)} staff member(s)")
    return 0
