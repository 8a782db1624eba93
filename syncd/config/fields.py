"""How one setting is declared: its default, its documentation and the values shown for it."""

from __future__ import annotations

from typing import Any

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
    **constraints: Any,
) -> Any:
    """A field with everything the docs need. ``example``: the value config/syncd.example.toml sets
    (default: the default); ``sample``: an illustration shown commented out where there is no
    value to set; ``commented``: both rendered files show it commented out; ``documented``: how the
    README's Default column states a default that is computed; ``problem``: the error for a wrong
    type or range (otherwise derived from the type and bounds)."""
    extra: dict[str, Any] = {"commented": commented}
    if example is not SAME:
        extra["example"] = example
    if sample is not None:
        extra["sample"] = sample
    if documented is not None:
        extra["documented"] = documented
    if problem is not None:
        extra["problem"] = problem
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
