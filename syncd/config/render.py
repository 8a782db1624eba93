"""The commented TOML files rendered from the models: ``syncd init``'s and config/syncd.example.toml.

Regenerate the example after changing a setting:
``python -m syncd.config.render > config/syncd.example.toml``.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from syncd.config.fields import field_info, keys, meta, sub_table, tables
from syncd.config.settings import ConfigFile

WIDTH = 100
INDIRECTIONS = """\
# Any string setting may be written inline or as an indirection (use these for secrets):
#   "env:NAME"         the environment variable NAME
#   "file:/path"       the contents of a file (surrounding whitespace stripped)
#   "credential:NAME"  a systemd credential ($CREDENTIALS_DIRECTORY/NAME; see systemd/README.md)
"""
EXAMPLE_HEAD = """\
# syncd example configuration: every setting, each with what it does and its default.
# Copy to /etc/syncd/syncd.toml (or run `syncd init`, which writes one with a fresh key).
# Rendered from syncd/config (python -m syncd.config.render): change the settings there.
#
"""
INIT_HEAD = """\
# syncd configuration. Every setting is optional unless marked REQUIRED; a commented-out one shows
# its default or an example. config/syncd.example.toml shows a complete production file.
"""
# Every table in file order: (header, model, is an array of tables); "" is the top level.
ALL_TABLES: tuple[tuple[str, type[BaseModel], bool], ...] = (("", ConfigFile, False), *tables(ConfigFile))


def toml_value(value: Any) -> str:
    """A Python value as a TOML literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Decimal):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def documented_default(table: type[BaseModel], key: str) -> Any:
    """A setting's default as the file would spell it (None: none, or computed)."""
    info = field_info(table, key)
    return None if info.is_required() or sub_table(table, key) is not None else info.default


def _comment(text: str) -> Iterator[str]:
    if text:
        yield from textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ")


def _values(model: type[BaseModel], example: bool, values: Mapping[str, Any]) -> Iterator[str]:
    """The plain settings of one table, each under its description."""
    for key in keys(model):
        if sub_table(model, key) is not None:
            continue
        default = documented_default(model, key)
        extra = meta(model, key)
        value = values.get(key, extra.get("example", default) if example else default)
        commented = extra.get("commented", False) and key not in values
        if value is None:
            commented = True
        if commented and "sample" in extra:
            value = extra["sample"]
        doc = field_info(model, key).description or ""
        shown_elsewhere = default in (None, "") or "documented" in extra
        if not shown_elsewhere and toml_value(value) != toml_value(default):
            doc += f" Default: {toml_value(default)}."
        yield from _comment(doc)
        yield f"{'# ' if commented else ''}{key} = {toml_value(value)}"


def _table(
    model: type[BaseModel], header: str, example: bool, values: Mapping[str, Mapping[str, Any]]
) -> Iterator[str]:
    """A table's settings, then its sub-tables. ``syncd init`` leaves arrays of tables (the
    companies) commented out, as an example to fill in."""
    yield from _values(model, example, values.get(header, {}))
    for key in keys(model):
        sub = sub_table(model, key)
        if sub is None:
            continue
        path = f"{header}.{key}" if header else key
        block = [
            *_comment(field_info(model, key).description or ""),
            f"[[{path}]]" if sub[1] else f"[{path}]",
            *_table(sub[0], path, example or sub[1], values),
        ]
        yield ""
        yield from block if example or not sub[1] else [f"# {line}".rstrip() for line in block]


def render(*, example: bool, values: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The commented file; ``values`` sets chosen settings per table ("" for top-level keys)."""
    head = (EXAMPLE_HEAD if example else INIT_HEAD) + INDIRECTIONS
    return head + "\n" + "\n".join(_table(ConfigFile, "", example, values or {})) + "\n"


def render_init(secret_key: str, database_url: str = "sqlite:///syncd.db") -> str:
    """``syncd init``'s file: the defaults, a fresh secret key, and the companies left to fill in."""
    return render(example=False, values={"": {"secret_key": secret_key}, "database": {"url": database_url}})


if __name__ == "__main__":
    print(render(example=True), end="")
