"""What the group hands its commands: the config path, and settings/context loaded on demand."""

from __future__ import annotations

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
