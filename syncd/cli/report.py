"""``syncd report``: a staff report (aging, collections, DSO, forecast, health, audits) as a table,
CSV or JSON."""

from __future__ import annotations

import json
from datetime import datetime

import click

from syncd.cli.options import company_option, opened_context
from syncd.cli.text import shown

NAMES = ("aging", "collections", "dso", "forecast", "health", "audits")
FORMATS = ("table", "csv", "json")
DAY = click.DateTime(["%Y-%m-%d"])


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Aligned columns: text to the left, figures to the right."""
    cells = [tuple(shown(c) for c in header), *(tuple(shown(c) for c in row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        len(cells) > 1 and not header[i].endswith("_id") and all(_figure(row[i]) for row in cells[1:])
        for i in range(len(header))
    ]
    lines = []
    for row in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _figure(text: str) -> bool:
    return text == "" or text.lstrip("-").replace(".", "", 1).isdigit()


@click.command("report")
@click.argument("name", type=click.Choice(NAMES))
@company_option
@click.option("--as-of", "as_of", type=DAY, default=None, help="The day (default: the company's today).")
@click.option(
    "--from",
    "start",
    type=DAY,
    default=None,
    help="First day for collections, dso, health and audits (each has a default span).",
)
@click.option(
    "--by",
    "grain",
    type=click.Choice(("week", "month")),
    default="week",
    show_default=True,
    help="Collections per.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def report(
    name: str, realm_id: str, as_of: datetime | None, start: datetime | None, grain: str, fmt: str
) -> int:
    """A report over syncd's store: aging (who owes what, by days past due), collections (money
    received per week or month, by method and channel), dso (days sales outstanding), forecast
    (expected cash for the next 8 weeks), health (failed payments and effects, holds), audits
    (Stripe transactions booked per month). Amounts are per currency, exact."""
    from syncd.reports.common import company_zone, local_day
    from syncd.reports.run import Ask, build

    with opened_context() as ctx:
        company = ctx.settings.company(realm_id)
        with ctx.db.transaction() as session:
            zone = company_zone(session, realm_id, company.timezone)
            day = as_of.date() if as_of is not None else local_day(ctx.clock(), zone)
            ask = Ask(day, zone, start.date() if start is not None else None, grain)
            try:
                built = build(session, realm_id, name, ask)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--from") from None
    if fmt == "json":
        click.echo(json.dumps(built.to_json(), indent=2))
    elif fmt == "csv":
        click.echo(built.csv(), nl=False)
    else:
        click.echo(
            f"{built.title}: company {shown(realm_id)}, "
            + ", ".join(f"{k} {v}" for k, v in built.params().items())
        )
        click.echo(text_table(built.header(), built.table()) if built.table() else "nothing to report")
        for note in built.notes():
            click.echo(f"note: {note}")
    return 0
