"""What a simulator run from the command line prints and how it waits: aligned facts, a
``syncd.toml`` fragment to paste, and serving until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import errno
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

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


def screen(head: str, rows: Mapping[str, str], paste: str) -> str:
    """What a simulator prints once serving: a headline, its facts, the fragment, how to stop."""
    return "\n".join([head, facts(rows), "", paste, "", "Press Ctrl-C to stop."])


def simulator_command(name: str, default_port: int) -> Callable[[Callable[..., int]], click.Command]:
    """``@click.command`` with the ``--host``/``--port`` options every simulator starts with."""

    def decorate(function: Callable[..., int]) -> click.Command:
        # Applied innermost first, so --help lists --host then --port, ahead of the command's own.
        port_help = "Port to listen on (0: any free one)."
        function = click.option("--port", default=default_port, show_default=True, help=port_help)(function)
        host_help = "Address to listen on."
        function = click.option("--host", default="127.0.0.1", show_default=True, help=host_help)(function)
        return click.command(name, context_settings={"help_option_names": ["-h", "--help"]})(function)

    return decorate


def parse(command: click.Command, prog: str, argv: Sequence[str] | None) -> dict[str, Any]:
    """The options ``argv`` gives ``command``, parsed as its command line would be."""
    with command.make_context(prog, list(argv or [])) as ctx:
        return ctx.params


def serve_until_stopped(
    sim: AbstractContextManager[Any], describe: Callable[[], str], stop: threading.Event | None
) -> int:
    """Start ``sim``, print ``describe()`` and serve until SIGINT/SIGTERM or ``stop``."""
    with until_stopped(stop) as done, sim:
        click.echo(describe())
        wait(done)
    return 0


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
