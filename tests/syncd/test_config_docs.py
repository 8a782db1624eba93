"""The README's configuration tables and docs/bookkeeping.md name exactly the settings the models
define, with the models' defaults; the theming fallbacks are the configured defaults."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from syncd.config import DEFAULT_BRANDING, AccountsSection, parse
from syncd.config.fields import keys, meta, sub_table
from syncd.config.render import ALL_TABLES, documented_default
from syncd.ports.email import SmtpSettings
from syncd.ports.quickbooks import AccountNames, QboSettings
from syncd.ports.stripe import StripeSettings
from syncd.web import templating

ROOT = Path(__file__).resolve().parents[2]
TABLES = {header: model for header, model, _ in ALL_TABLES}


def readme_rows(text: str) -> dict[str, list[tuple[list[str], str]]]:
    """Per table of the Configuration reference: (keys of a row, its Default cell)."""
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[tuple[list[str], str]]] = {}
    table = None
    for line in section.splitlines():
        heading = re.match(r"### (?:Top level|`\[\[?([a-z_.]+)\]\]?`)", line)
        intro = re.match(r"`\[([a-z_.]+)\]`", line)
        if heading or intro:
            table = (heading.group(1) or "") if heading else intro.group(1)  # type: ignore[union-attr]
            continue
        if table is not None and line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.setdefault(table, []).append((re.findall(r"`([a-z_]+)`", cells[0]), cells[1]))
    return rows


def model_keys(model: type[BaseModel]) -> set[str]:
    """The plain settings of a table (its sub-tables have their own README table)."""
    return {key for key in keys(model) if sub_table(model, key) is None}


def plain(value: Any) -> Any:
    """A default as TOML reads it back."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def check_default(model: type[BaseModel], key: str, cell: str, position: int) -> None:
    documented = meta(model, key).get("documented")
    default = documented_default(model, key)
    if documented is not None:
        assert cell.startswith(documented), (key, cell, documented)
    elif default is None:
        assert cell.startswith("none"), (key, cell)
    else:
        literal = re.findall(r"`([^`]+)`", cell)[position]
        assert tomllib.loads(f"v = {literal}")["v"] == plain(default), (key, literal, default)


README_ROWS = readme_rows((ROOT / "README.md").read_text())


@pytest.mark.parametrize(("name", "model"), TABLES.items(), ids=list(TABLES))
def test_readme_documents_exactly_the_settings_with_their_defaults(name: str, model: type[BaseModel]) -> None:
    rows = README_ROWS.get(name, [])
    documented = {key for row_keys, _ in rows for key in row_keys}
    assert documented == model_keys(model), (name, documented ^ model_keys(model))
    for row_keys, cell in rows:
        for position, key in enumerate(row_keys):
            check_default(model, key, cell, position)


def test_readme_check_catches_a_drifted_default() -> None:
    with pytest.raises(AssertionError):
        check_default(TABLES["company.branding"], "accent_color", '`"#1f4e79"`, `"#2e7d32"`', 1)
    with pytest.raises(AssertionError):
        check_default(TABLES["web"], "port", "`8080`", 0)


def test_bookkeeping_doc_names_the_account_defaults() -> None:
    text = (ROOT / "docs" / "bookkeeping.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", text, flags=re.MULTILINE))
    assert set(rows) == set(keys(AccountsSection))
    for key, cell in rows.items():
        default = documented_default(AccountsSection, key)
        if isinstance(default, str):
            assert cell.strip() == f"`{default}`", key
        else:
            assert cell.strip().startswith("(none"), key


def test_theming_falls_back_to_the_configured_branding() -> None:
    assert (
        DEFAULT_BRANDING.primary_color,
        DEFAULT_BRANDING.accent_color,
    ) == (templating.DEFAULT_PRIMARY, templating.DEFAULT_ACCENT)
    css = (Path(templating.__file__).parent / "templates" / "static" / "portal.css").read_text()
    assert f"--brand-primary: {DEFAULT_BRANDING.primary_color};" in css
    assert f"--brand-accent: {DEFAULT_BRANDING.accent_color};" in css


def test_the_connectors_own_defaults_agree_with_the_settings() -> None:
    """The connector settings types keep defaults of their own (for code that builds them
    directly); they must not drift from the one definition either."""
    assert AccountNames() == AccountsSection().names()
    built = parse({"secret_key": "k"})
    pairs = [
        (QboSettings, built.qbo, ("minorversion", "timeout_seconds")),
        (StripeSettings, built.stripe, ("api_base", "webhook_tolerance_seconds")),
        (SmtpSettings, built.smtp, ("username", "password", "security", "timeout_seconds", "from_addr")),
    ]
    for kind, value, names in pairs:
        defaults = {f.name: f.default for f in dataclasses.fields(kind)}
        for name in names:
            assert defaults[name] == getattr(value, name), (kind.__name__, name)
