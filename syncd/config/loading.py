"""Reading syncd.toml: secrets resolved, the models validate, and any mistake becomes one line
naming its setting (never a pydantic dump)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncd.config.fields import field_info, keys, meta, sub_table
from syncd.config.indirection import resolve_tree
from syncd.config.settings import ConfigFile, Settings, settings
from syncd.errors import ConfigError


def load(path: Path) -> Settings:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config", f"{path} does not exist: create one with `syncd init`") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML: {exc}") from None
    return parse(raw, base_dir=path.parent)


def parse(raw: dict[str, Any], *, base_dir: Path = Path(".")) -> Settings:
    try:
        file = ConfigFile.model_validate(resolve_tree(raw))
    except ValidationError as exc:
        raise _one_line(exc.errors()[0]) from None
    return settings(file, base_dir)


def _one_line(error: ErrorDetails) -> ConfigError:
    """The first error as ``setting: problem``, the setting written as in the file."""
    loc = [part for part in error["loc"] if part != "[key]"]
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    table, key = _table_of(loc)
    kind = error["type"]
    if kind == "extra_forbidden" and table is not None:
        return ConfigError(name, f"unknown setting (known: {', '.join(sorted(keys(table)))})")
    if kind == "missing":
        return ConfigError(name, "is required")
    if kind == "value_error":
        return ConfigError(name, error["msg"].removeprefix("Value error, "))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return ConfigError(name, "must be a table")
    info = field_info(table, key) if table is not None and key is not None else None
    declared = meta(table, key).get("problem") if table is not None and key is not None else None
    return ConfigError(name, declared or _problem(info, error))


def _table_of(loc: list[int | str]) -> tuple[type[BaseModel] | None, str | None]:
    """The model of the table holding the last key of ``loc``, and that key."""
    table: type[BaseModel] | None = ConfigFile
    key: str | None = None
    for part in loc:
        if isinstance(part, int) or table is None:
            continue
        if key is not None:
            sub = sub_table(table, key)
            if sub is None:
                return None, None
            table = sub[0]
        key = part
    return table, key


def _problem(info: Any, error: ErrorDetails) -> str:
    """A plain-words problem from the error's kind and the field's bounds."""
    kind = error["type"]
    if kind == "string_type":
        return f"must be a string, not {type(error['input']).__name__}"
    if kind == "bool_type":
        return "must be true or false"
    bounds = {type(m).__name__: m for m in (info.metadata if info is not None else [])}
    lo = getattr(bounds.get("Ge"), "ge", None)
    hi = getattr(bounds.get("Le"), "le", None)
    if lo is not None and hi is not None:
        return f"must be a whole number from {lo} to {hi}"
    if lo is not None:
        return f"must be a number of at least {lo}"
    return error["msg"][:1].lower() + error["msg"][1:]
