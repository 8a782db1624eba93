"""Logging setup: syncd's own events and the web server's lines, in one format (console or json)."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# The web server logs through the standard library; these are its loggers.
WEB_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def _renderer(fmt: str, stream: TextIO) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    # journald keeps plain lines; colours only for a person at a terminal.
    return structlog.dev.ConsoleRenderer(
        colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


def configure(level: str, fmt: str = "console", stream: TextIO | None = None) -> None:
    """Route structlog and the web server's standard-library loggers to ``stream`` (stdout unless
    given: a benchmark keeps stdout for its figures) in ``fmt``."""
    stream = sys.stdout if stream is None else stream
    threshold = LEVELS.get(level.lower(), logging.INFO)
    # A job skipped because its previous run is still going is expected (wakes are queued).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.format_exc_info,
            _renderer(fmt, stream),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt, stream)],
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, stamp],
        )
    )
    for name in WEB_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(threshold)
