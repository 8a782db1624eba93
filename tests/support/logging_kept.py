"""Each test finds logging as the suite configured it, whatever an in-process command set before."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from syncd.logs import WEB_LOGGERS

# The standard-library loggers ``syncd.logs.configure`` changes for the whole process.
TOUCHED = ("apscheduler", *WEB_LOGGERS)


@pytest.fixture(autouse=True)
def logging_kept() -> Iterator[None]:
    """Put back structlog's configuration and the loggers ``syncd.logs`` touches after each test:
    an in-process ``syncd run`` (or bench, demo) filters out info events for good otherwise, and
    a later test capturing logs sees none of them."""
    saved = structlog.get_config()
    processors = list(saved["processors"])
    loggers = {name: logging.getLogger(name) for name in TOUCHED}
    kept = {name: (lg.level, list(lg.handlers), lg.propagate) for name, lg in loggers.items()}
    yield
    structlog.configure(**{**saved, "processors": processors})
    for name, (level, handlers, propagate) in kept.items():
        loggers[name].setLevel(level)
        loggers[name].handlers = handlers
        loggers[name].propagate = propagate
