"""How one setting is declared: its default, its documentation and the values shown for it."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

# Marks "no separate value": the rendered files show the default itself.
SAME: Any = object()


class Section(BaseModel):
    """One TOML table: unknown keys are refused (a typo must not be silently ignored); frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def setting(
    default: Any,
    doc: str,
    *,
    example: Any = SAME,
    sample: Any = None,
    commented: bool = False,
    documented: str | None = None,
    problem: str | None = None,
    table: type[BaseModel] | None = None,
    **constraints: Any,
) -> Any:
    """A field with everything the docs need. ``example``: the value config/syncd.example.toml sets
    (default: the default); ``sample``: an illustration shown commented out where there is no
    value to set; ``commented``: both rendered files show it commented out; ``documented``: how the
    README's Default column states a default that is computed; ``problem``: the error for a wrong
    type or range (otherwise derived from the type and bounds); ``table``: the table as written,
    where the field holds something built from it."""
    extra: dict[str, Any] = {"commented": commented}
    if example is not SAME:
        extra["example"] = example
    if sample is not None:
        extra["sample"] = sample
    if documented is not None:
        extra["documented"] = documented
    if problem is not None:
        extra["problem"] = problem
    if table is not None:
        extra["table"] = table
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


def meta(section: type[BaseModel], key: str) -> dict[str, Any]:
    """The declared extras of a field, found by its TOML key."""
    info = field_info(section, key)
    extra = info.json_schema_extra if info is not None else None
    return extra if isinstance(extra, dict) else {}


def keys(section: type[BaseModel]) -> list[str]:
    """The TOML keys of a table, in declaration order (aliases where a key is a Python keyword)."""
    return [info.alias or name for name, info in section.model_fields.items()]


def field_info(section: type[BaseModel], key: str) -> Any:
    for name, info in section.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def sub_table(section: type[BaseModel], key: str) -> tuple[type[BaseModel], bool] | None:
    """The model of the table a key holds, and whether it is an array of tables; None: a value."""
    declared = meta(section, key).get("table")
    if declared is not None:
        return declared, False
    info = field_info(section, key)
    kind = info.annotation if info is not None else None
    many = get_origin(kind) is tuple
    if many:
        kind = get_args(kind)[0]
    return (kind, many) if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def tables(section: type[BaseModel], header: str = "") -> list[tuple[str, type[BaseModel], bool]]:
    """Every table below ``section`` in file order: (header, model, is an array of tables)."""
    found = []
    for key in keys(section):
        sub = sub_table(section, key)
        if sub is not None:
            path = f"{header}.{key}" if header else key
            found.append((path, *sub))
            found += tables(sub[0], path)
    return found
