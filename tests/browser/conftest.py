"""Browser fixtures: Debian's chromium driven by Playwright, and one in-process demo per module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from strictness import unavailable

from syncd.demo import DemoHandle, start_demo

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

CHROMIUM = os.environ.get("SYNCD_TEST_CHROMIUM", "/usr/bin/chromium")
# Browsers cannot be downloaded here: Debian's chromium is launched by path, with everything
# that would phone home switched off.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    unavailable(reason)


@pytest.fixture(scope="module")
def browser_context_factory() -> Iterator[Callable[[], BrowserContext]]:
    """Debian's chromium under Playwright, launched once per module (Playwright gives it a fresh
    temporary profile directory) and always closed.

    Yields ``new_context()``: a fresh BrowserContext (own cookies and storage) so tests never
    share a portal session."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        _missing(f"{CHROMIUM} not found: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed: pip install -e '.[test]'")
    manager = sync_playwright()
    playwright = manager.start()
    contexts: list[BrowserContext] = []
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
        except Exception as exc:
            _missing(f"cannot launch {CHROMIUM}: {type(exc).__name__}: {str(exc)[:300]}")
        try:

            def new_context() -> BrowserContext:
                context = browser.new_context(viewport={"width": 1000, "height": 900})
                context.set_default_timeout(20_000)
                contexts.append(context)
                return context

            yield new_context
        finally:
            for context in contexts:
                context.close()
            browser.close()
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHandle]:
    """``syncd demo`` in this process on a free port (simulators, SMTP sink, daemon, portal)."""
    handle = start_demo(port=0, invoices=12, state_dir=tmp_path_factory.mktemp("demo"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """Where a test saves its screenshots (named in the failure message)."""
    return tmp_path_factory.mktemp(f"shots-{request.node.name}"[:40])
