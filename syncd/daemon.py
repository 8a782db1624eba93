"""``syncd run``: migrate, wire, schedule, serve; SIGTERM/SIGINT stop it gracefully with exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from starlette.routing import BaseRoute

from syncd import sdnotify
from syncd.bootstrap import build_context
from syncd.companies import ensure_companies
from syncd.config import Settings
from syncd.context import Context
from syncd.errors import ConfigError, TransientError
from syncd.scheduler import Scheduler
from syncd.store import migrate
from syncd.store.owners import reclaim_dead
from syncd.web.app import create_app
from syncd.web.webhooks import Intake

if TYPE_CHECKING:
    from connectors.email.sink import Mailbox

log = structlog.get_logger(__name__)

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(level: str) -> None:
    # A job skipped because its previous run is still going is expected (wakes are queued).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # journald keeps plain lines; colours only for a person at a terminal.
            structlog.dev.ConsoleRenderer(
                colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS.get(level.lower(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )


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
    ) -> None:
        self.ctx = ctx or build_context(settings, require_stripe=True)
        migrate.upgrade(self.ctx.db)
        freed = reclaim_dead(self.ctx.db)
        if freed:
            log.info("reclaimed_dead_owners", leases=freed)
        ensure_companies(self.ctx)
        self.scheduler = Scheduler(self.ctx)
        self.ctx.wake = self.scheduler.wake
        self.app = create_app(self.ctx, mailbox=mailbox, extra_routes=extra_routes, intake=intake)

    def start_jobs(self) -> None:
        self.scheduler.start()

    def healthy(self) -> bool:
        from syncd.web.health import database_ok

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


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle off on accepted connections only when the socket says IPPROTO_TCP
    # (proto 0 does not count); with Nagle on, a keep-alive response waits out a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            # Often the previous instance still closing: worth a restart (exit 75), not a fix.
            raise TransientError(f"{host}:{port} is in use (web.host/web.port)") from None
        raise ConfigError("web.host", f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def server_config(settings: Settings, app: Any) -> uvicorn.Config:
    """How uvicorn serves the app: no access log (portal paths are bearer tokens), and
    X-Forwarded-* believed from ``web.trusted_proxies`` only."""
    return uvicorn.Config(
        app,
        log_level=settings.log_level if settings.log_level in LEVELS else "info",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=20,
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
    )


def run(settings: Settings) -> int:
    """Serve in the calling (main) thread until SIGTERM or SIGINT; returns the exit code."""
    configure_logging(settings.log_level)
    sock = _listen(settings.web_host, settings.web_port)
    try:
        service = Service(settings)
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
