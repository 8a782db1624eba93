"""What a simulator run from the command line prints and how it waits: aligned facts, a
``syncd.toml`` fragment to paste, and serving until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from collections.abc import Iterator, Mapping

import click


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def toml_table(name: str, values: Mapping[str, object], *, array: bool = False) -> str:
    head = f"[[{name}]]" if array else f"[{name}]"
    return "\n".join([head, *(f"{key} = {toml_value(v)}" for key, v in values.items())])


def facts(rows: Mapping[str, str]) -> str:
    """``label: value`` lines with the values aligned."""
    width = max(len(label) for label in rows) + 1
    return "\n".join(f"  {label + ':':<{width}} {value}" for label, value in rows.items())


def fragment(note: str, tables: list[str]) -> str:
    """The paste-ready block, fenced by marker lines a script (or a test) can cut out."""
    return "\n".join([note, "", "# --- syncd.toml ---", "\n\n".join(tables), "# --- end ---"])


@contextlib.contextmanager
def until_stopped(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """Yields the event to wait on: ``stop`` (embedded callers) or one set by SIGINT/SIGTERM."""
    done = stop or threading.Event()
    previous = {}
    if stop is None and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: done.set())
    try:
        yield done
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait(done: threading.Event) -> None:
    # Short waits so a signal handler runs promptly on every platform.
    while not done.wait(0.5):
        pass


@contextlib.contextmanager
def port_in_use(option: str, port: int) -> Iterator[None]:
    """A taken port becomes one line naming the option to change, never a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"port {port} is in use: pass {option} with another port (0: any free one)"
        ) from None
