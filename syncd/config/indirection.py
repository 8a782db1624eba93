"""Secret indirections in setting values: ``env:NAME``, ``file:/path`` and ``credential:NAME``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from syncd.errors import ConfigError


def resolve(value: Any, setting: str) -> Any:
    """``env:NAME``, ``file:/path`` and ``credential:NAME`` (systemd credentials) indirections."""
    if not isinstance(value, str):
        return value
    if value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(setting, f"environment variable {name} is not set")
        return os.environ[name]
    if value.startswith("file:") or value.startswith("credential:"):
        if value.startswith("file:"):
            path = Path(value[5:])
        else:
            creds = os.environ.get("CREDENTIALS_DIRECTORY")
            if not creds:
                raise ConfigError(setting, "credential: used but $CREDENTIALS_DIRECTORY is not set (systemd)")
            path = Path(creds) / value[len("credential:") :]
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ConfigError(setting, f"cannot read {path}: {exc.strerror}") from None
    return value


def resolve_tree(raw: Any, setting: str = "") -> Any:
    """Every string in the parsed TOML resolved, each error naming its setting's full path."""
    if isinstance(raw, dict):
        return {
            key: resolve_tree(value, f"{setting}.{key}" if setting else key) for key, value in raw.items()
        }
    if isinstance(raw, list):
        return [resolve_tree(item, f"{setting}[{i}]") for i, item in enumerate(raw)]
    return resolve(raw, setting)
