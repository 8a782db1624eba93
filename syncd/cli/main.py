"""Entry point: the ``syncd`` group, global ``--config`` and the mapping of errors to exit codes.

Exit codes: 0 ok, 1 failure, 2 usage, 75 temporary failure (EX_TEMPFAIL), 78 configuration
error (EX_CONFIG). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from syncd.cli import commands, tools
from syncd.cli.audit import audit
from syncd.cli.authorize import authorize
from syncd.cli.autopay import autopay
from syncd.cli.cards import request_card
from syncd.cli.collect import collect
from syncd.cli.entries import entries
from syncd.cli.failed import failed
from syncd.cli.holds import holds
from syncd.cli.options import CliState
from syncd.cli.plans import plan
from syncd.cli.preview import preview
from syncd.cli.report import report
from syncd.cli.staff import staff
from syncd.cli.templates import templates
from syncd.errors import AuthError, ConfigError, SyncdError, TransientError, UnavailableError

EX_OK = 0
EX_FAILURE = 1
EX_USAGE = 2
EX_TEMPFAIL = 75
EX_CONFIG = 78


def _default_config() -> str:
    return os.environ.get("SYNCD_CONFIG") or "syncd.toml"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=_default_config,
    show_default="$SYNCD_CONFIG or ./syncd.toml",
    help="Configuration file.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path) -> None:
    """syncd: QuickBooks Online invoices paid through Stripe, written back exactly once."""
    ctx.obj = CliState(config_path)


for command in (
    *commands.COMMANDS,
    *tools.COMMANDS,
    audit,
    collect,
    autopay,
    entries,
    failed,
    holds,
    preview,
    report,
    request_card,
    staff,
    templates,
    plan,
    authorize,
):
    cli.add_command(command)


def _fail(message: str, code: int) -> int:
    click.echo(f"syncd: {message}", err=True)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this; ``main`` exits with it)."""
    try:
        try:
            result = cli.main(
                args=list(argv) if argv is not None else None, prog_name="syncd", standalone_mode=False
            )
        except OperationalError as exc:
            from syncd.store.engine import explain

            raise explain(exc) from None
    except click.exceptions.Abort:
        return _fail("aborted", EX_FAILURE)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ConfigError as exc:
        return _fail(f"{exc.setting}: {exc.problem}", EX_CONFIG)
    except UnavailableError as exc:
        return _fail(f"{exc.setting}: {exc.problem}", EX_TEMPFAIL)
    except TransientError as exc:
        return _fail(f"temporary failure, try again: {exc}", EX_TEMPFAIL)
    except AuthError as exc:
        return _fail(f"not authorised: {exc}", EX_FAILURE)
    except SyncdError as exc:
        return _fail(str(exc), EX_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # the last line of defence: one line, no traceback
        return _fail(f"unexpected error: {type(exc).__name__}: {exc}", EX_FAILURE)
    return result if isinstance(result, int) else EX_OK


def main() -> None:
    sys.exit(run())
