"""What the group hands its commands: the config path, and settings/context loaded on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncd.config import Settings, load

if TYPE_CHECKING:
    from syncd.context import Context


@dataclass
class CliState:
    config_path: Path
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load(self.config_path)
        return self._settings

    def context(self) -> Context:
        from syncd.bootstrap import build_context

        return build_context(self.settings())


def state() -> CliState:
    obj = click.get_current_context().find_object(CliState)
    assert obj is not None
    return obj


@contextmanager
def opened_context() -> Iterator[Context]:
    """``with opened_context() as ctx:`` the daemon's context for one command, its database pool
    released when the block ends."""
    ctx = state().context()
    try:
        yield ctx
    finally:
        ctx.db.dispose()


# Options several commands share, spelled once.
company_option = click.option("--company", "realm_id", required=True, help="The company (QBO realm id).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
