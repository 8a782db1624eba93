"""``syncd run``: check, migrate, wire, schedule, serve; SIGTERM/SIGINT stop it gracefully (exit 0)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any, TextIO

import structlog
import uvicorn
from starlette.routing import BaseRoute

from syncd import logs, preflight, sdnotify
from syncd.bootstrap import build_context
from syncd.companies import ensure_companies, resume_proven
from syncd.config import Settings
from syncd.context import Context
from syncd.errors import Credential
from syncd.ports.mailbox import Mailbox
from syncd.scheduler.schedule import Scheduler
from syncd.store import effects, migrate
from syncd.store.owners import reclaim_dead
from syncd.web.app import create_app
from syncd.web.health import database_ok
from syncd.web.webhooks import Intake

log = structlog.get_logger(__name__)


def configure_logging(level: str, fmt: str = "console", stream: TextIO | None = None) -> None:
    """Kept for the demo and the bench: see ``syncd.logs``."""
    logs.configure(level, fmt, stream)


class Service:
    """The daemon's parts in one process: context, scheduler and web app (started separately so
    the demo and tests can serve the app on a background thread)."""

    def __init__(
        self,
        settings: Settings,
        *,
        ctx: Context | None = None,
        mailbox: Mailbox | None = None,
        extra_routes: Iterable[BaseRoute] = (),
        intake: Intake | None = None,
        proven: Iterable[Credential] = (),
    ) -> None:
        """``proven``: credentials the startup checks saw work; companies paused for them resume."""
        self.ctx = ctx or build_context(settings, require_stripe=True)
        migrate.upgrade(self.ctx.db)
        freed = reclaim_dead(self.ctx.db)
        if freed:
            log.info("reclaimed_dead_owners", leases=freed)
        ensure_companies(self.ctx)
        waiting = effects.due_awaiting_settings(self.ctx.db, now=self.ctx.clock())
        if waiting:
            log.info("settings_waits_due", effects=waiting)
        for credential in proven:
            resume_proven(self.ctx, credential)
        self.scheduler = Scheduler(self.ctx)
        self.ctx.wake = self.scheduler.wake
        self.app = create_app(self.ctx, mailbox=mailbox, extra_routes=extra_routes, intake=intake)

    def start_jobs(self) -> None:
        self.scheduler.start()

    def healthy(self) -> bool:
        return self.scheduler.running and database_ok(self.ctx)

    def stop_jobs(self) -> None:
        """Finish in-flight jobs, give back leases, close the store."""
        self.scheduler.shutdown(wait=True)
        self.ctx.db.dispose()


class _Server(uvicorn.Server):
    """uvicorn re-raises the signals it caught once it stops; the daemon handles them itself so
    a requested stop exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_config(settings: Settings, app: Any) -> uvicorn.Config:
    """How uvicorn serves the app: no access log (portal paths are bearer tokens), and
    X-Forwarded-* believed from ``web.trusted_proxies`` only."""
    return uvicorn.Config(
        app,
        log_level=settings.log_level,
        # Logging is configured by the daemon, in its own format.
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=20,
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
    )


def run(settings: Settings) -> int:
    """Serve in the calling (main) thread until SIGTERM or SIGINT; returns the exit code."""
    configure_logging(settings.log_level, settings.log_format)
    # Everything that can be wrong is named before the port is taken (the config was validated
    # when it was loaded): a busy port must not hide a bad key or an unreachable database.
    preflight.check_database(settings)
    proven = (Credential.STRIPE_KEY,) if preflight.check_stripe(settings) else ()
    sock = preflight.listen(settings.web_host, settings.web_port)
    try:
        service = Service(settings, proven=proven)
    except BaseException:
        sock.close()
        raise
    server = _Server(server_config(settings, service.app))
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            server.force_exit = True  # a second signal: stop waiting for open connections
        stopping.set()
        sdnotify.notify("STOPPING=1")
        server.should_exit = True

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, request_stop)
    watchdog = sdnotify.Watchdog(lambda: service.healthy() and not stopping.is_set())
    try:
        service.start_jobs()

        async def serve() -> None:
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started and not task.done():
                await asyncio.sleep(0.05)
            if server.started:
                log.info(
                    "syncd_ready", url=settings.public_url, listen=f"{settings.web_host}:{settings.web_port}"
                )
                sdnotify.notify("READY=1")
                watchdog.start()
            await task

        asyncio.run(serve())
    finally:
        stopping.set()
        watchdog.stop()
        sdnotify.notify("STOPPING=1")
        service.stop_jobs()
        sock.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("syncd_stopped")
    return 0
