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

from syncd.config.company import AccountsSection, BrandingSettings, CompanySettings
from syncd.config.fields import keys, meta
from syncd.config.models import (
    DatabaseSection,
    Intervals,
    QuickbooksSection,
    SmtpSection,
    StripeSection,
    WebSection,
)
from syncd.config.settings import ConfigFile

WIDTH = 100
INDIRECTIONS = """\
# Any string setting may be written inline or as an indirection (use these for secrets):
#   "env:NAME"         the environment variable NAME
#   "file:/path"       the contents of a file (surrounding whitespace stripped)
#   "credential:NAME"  a systemd credential ($CREDENTIALS_DIRECTORY/NAME; see systemd/README.md)
"""
EXAMPLE_HEAD = """\
# syncd example configuration: every setting, with its default where it has one.
# Copy to /etc/syncd/syncd.toml (or run `syncd init`, which writes one with a fresh key).
# Rendered from syncd/config (python -m syncd.config.render): change the settings there.
#
"""
INIT_HEAD = """\
# syncd configuration. Every setting is optional unless marked REQUIRED; the commented ones show
# their default. config/syncd.example.toml shows a complete production file.
"""
# The tables in file order, by header.
TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("database", DatabaseSection),
    ("web", WebSection),
    ("quickbooks", QuickbooksSection),
    ("stripe", StripeSection),
    ("smtp", SmtpSection),
    ("scheduler", Intervals),
)
COMPANY_TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("company.accounts", AccountsSection),
    ("company.branding", BrandingSettings),
)
ALL_TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("", ConfigFile),
    *TABLES,
    ("company", CompanySettings),
    *COMPANY_TABLES,
)


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
    name = next(n for n, info in table.model_fields.items() if key in (n, info.alias))
    default = table.model_fields[name].default
    if table is CompanySettings and key == "accounts":
        return None
    return None if default is Ellipsis else default


def _comment(text: str) -> Iterator[str]:
    if text:
        yield from textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ")


def _table(model: type[BaseModel], example: bool, values: Mapping[str, Any]) -> Iterator[str]:
    for key in keys(model):
        default = documented_default(model, key)
        if isinstance(default, BaseModel) or key in ("company", "accounts", "branding"):
            continue
        extra = meta(model, key)
        info_doc = next(i.description for n, i in model.model_fields.items() if key in (n, i.alias))
        value = values.get(key, extra.get("example", default) if example else default)
        commented = extra.get("commented", False) and key not in values
        if value is None:
            commented = True
        if commented and "sample" in extra:
            value = extra["sample"]
        yield from _comment(info_doc or "")
        yield f"{'# ' if commented else ''}{key} = {toml_value(value)}"


def _company() -> Iterator[str]:
    yield from _comment(ConfigFile.model_fields["company"].description or "")
    yield "[[company]]"
    yield from _table(CompanySettings, True, {})
    for header, model in COMPANY_TABLES:
        yield ""
        yield from _comment(CompanySettings.model_fields[header.split(".")[1]].description or "")
        yield f"[{header}]"
        yield from _table(model, True, {})


def render(*, example: bool, values: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The commented file; ``values`` sets chosen settings per table ("" for top-level keys)."""
    values = values or {}
    lines = [(EXAMPLE_HEAD if example else INIT_HEAD) + INDIRECTIONS.rstrip("\n"), ""]
    lines += _table(ConfigFile, example, values.get("", {}))
    for header, model in TABLES:
        lines += ["", f"[{header}]", *_table(model, example, values.get(header, {}))]
    company = list(_company())
    lines += [""] + (company if example else [f"# {line}".rstrip() for line in company])
    return "\n".join(lines) + "\n"


def render_init(secret_key: str, database_url: str = "sqlite:///syncd.db") -> str:
    """``syncd init``'s file: the defaults, a fresh secret key, and the companies left to fill in."""
    return render(example=False, values={"": {"secret_key": secret_key}, "database": {"url": database_url}})


if __name__ == "__main__":
    print(render(example=True), end="")
