"""Prometheus metrics: a registry per app, store gauges read at scrape time, webhook counters."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context
from syncd.store.models import Effect, InboxEvent, PaymentRow

log = structlog.get_logger(__name__)


class StoreCollector(Collector):
    """Reads the outbox, inbox and payments tables and the QBO connectors' counters per scrape."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            yield from self._store()
        except Exception:
            # A scrape must not fail because the database blinked; /healthz reports that.
            log.warning("metrics_store_unavailable", exc_info=True)
        yield from self._qbo()

    def _store(self) -> Iterator[GaugeMetricFamily]:
        effects = GaugeMetricFamily(
            "syncd_effects", "Effects in the outbox by status and kind", labels=["status", "kind"]
        )
        inbox = GaugeMetricFamily(
            "syncd_inbox_backlog", "Webhook events not processed yet", labels=["source"]
        )
        payments = GaugeMetricFamily(
            "syncd_payments", "Payments by company and status", labels=["company", "status"]
        )
        with self.ctx.db.transaction() as session:
            for status, kind, n in session.execute(
                select(Effect.status, Effect.kind, func.count()).group_by(Effect.status, Effect.kind)
            ):
                effects.add_metric([status, kind], int(n))
            for source, n in session.execute(
                select(InboxEvent.source, func.count())
                .where(InboxEvent.processed_at.is_(None))
                .group_by(InboxEvent.source)
            ):
                inbox.add_metric([source], int(n))
            for company, status, n in session.execute(
                select(PaymentRow.company_id, PaymentRow.status, func.count()).group_by(
                    PaymentRow.company_id, PaymentRow.status
                )
            ):
                payments.add_metric([company, status], int(n))
        for source in ("stripe", "quickbooks"):
            if not any(s.labels["source"] == source for s in inbox.samples):
                inbox.add_metric([source], 0)
        yield effects
        yield inbox
        yield payments

    def _qbo(self) -> Iterator[CounterMetricFamily]:
        requests = CounterMetricFamily(
            "syncd_qbo_requests", "Requests made to QuickBooks per company", labels=["company", "kind"]
        )
        # Only connectors already built: building one here would reach for the network.
        built = self.ctx.built_qbo()
        for realm, client in sorted(built.items()):
            try:
                counts = client.counts()
            except Exception:
                log.warning("metrics_qbo_counts_failed", realm=realm, exc_info=True)
                continue
            for kind, value in (
                ("read", counts.reads),
                ("write", counts.writes),
                ("batch", counts.batches),
                ("throttled", counts.throttled),
            ):
                requests.add_metric([realm, kind], value)
        yield requests


class WebMetrics:
    """One registry per app (never the process-global one), so apps and tests do not collide."""

    def __init__(self, ctx: Context) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._webhooks = Counter(
            "syncd_webhooks",
            "Webhook deliveries by source and outcome",
            ["source", "outcome"],
            registry=self.registry,
        )
        for source in ("stripe", "quickbooks"):
            for outcome in ("accepted", "bad_signature", "invalid", "too_large", "error"):
                self._webhooks.labels(source, outcome)
        self.registry.register(StoreCollector(ctx))

    def webhook(self, source: str, outcome: str) -> None:
        self._webhooks.labels(source, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_routes(metrics: WebMetrics, token: str | None) -> list[BaseRoute]:
    """``/metrics`` for a scraper holding ``token`` (``Authorization: Bearer``); without a token
    configured it is not served at all: it names realms and counts, and shares the public port."""
    if token is None:
        return []
    expected = f"Bearer {token}".encode()

    async def scrape(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            return Response(
                "metrics need web.metrics_token as a bearer token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="syncd metrics"'},
                media_type="text/plain",
            )
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"], name="metrics")]
