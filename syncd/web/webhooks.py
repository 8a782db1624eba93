"""Webhook endpoints: raw body in, verified and stored by intake, wake the right job, answer fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context
from syncd.errors import PermanentError, SignatureError, TransientError
from syncd.web.metrics import WebMetrics

log = structlog.get_logger(__name__)

# The largest webhook body read and kept: a longer one is refused (413) before it is read.
MAX_BODY = 1 << 20
STRIPE_PATH = "/webhooks/stripe"
QBO_PATH = "/webhooks/quickbooks"
WEBHOOK_PATHS = frozenset({STRIPE_PATH, QBO_PATH})


class Intake(Protocol):
    """What the endpoints hand a body to (``syncd.intake``; tests and the bench may wrap it)."""

    def accept_stripe(self, ctx: Context, body: bytes, signature: str | None) -> str: ...

    def accept_qbo(self, ctx: Context, body: bytes, signature: str | None) -> list[str]: ...


class _TooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _tiny(status: int, text: str) -> Response:
    return PlainTextResponse(text, status_code=status)


def _wake(ctx: Context, job: str, realm: str | None) -> None:
    # The event is stored already: a failed wake only delays processing to the next interval.
    try:
        ctx.wake(job, realm)
    except Exception:
        log.exception("wake_failed", job=job, realm=realm)


class _Endpoints:
    def __init__(self, ctx: Context, intake: Intake, metrics: WebMetrics, max_body: int) -> None:
        self.ctx = ctx
        self.intake = intake
        self.metrics = metrics
        self.max_body = max_body

    async def _guarded(
        self, source: str, request: Request, forged_status: int, accept: Callable[[bytes], Response]
    ) -> Response:
        try:
            body = await read_limited(request, self.max_body)
        except _TooLarge:
            self.metrics.webhook(source, "too_large")
            return _tiny(413, "too large")
        try:
            response = await run_in_threadpool(accept, body)
        except SignatureError as exc:
            self.metrics.webhook(source, "bad_signature")
            # The reason names what to do when no secret is known yet (`syncd connect stripe`).
            log.warning("webhook_signature_rejected", source=source, reason=str(exc))
            return _tiny(forged_status, "invalid signature")
        except PermanentError as exc:
            self.metrics.webhook(source, "invalid")
            log.warning("webhook_invalid", source=source, error=str(exc))
            return _tiny(400, "invalid payload")
        except TransientError as exc:
            self.metrics.webhook(source, "error")
            log.warning("webhook_store_failed", source=source, error=str(exc))
            return _tiny(503, "try again")
        except Exception:
            self.metrics.webhook(source, "error")
            log.exception("webhook_failed", source=source)
            return _tiny(500, "error")
        self.metrics.webhook(source, "accepted")
        return response

    async def stripe(self, request: Request) -> Response:
        signature = request.headers.get("stripe-signature")

        def accept(body: bytes) -> Response:
            event_id = self.intake.accept_stripe(self.ctx, body, signature)
            _wake(self.ctx, "ingest", None)
            return JSONResponse({"received": True, "id": event_id})

        return await self._guarded("stripe", request, 400, accept)

    async def quickbooks(self, request: Request) -> Response:
        signature = request.headers.get("intuit-signature")

        def accept(body: bytes) -> Response:
            realms = self.intake.accept_qbo(self.ctx, body, signature)
            # Never pull inline: QBO wants an answer within 3 s.
            for realm in dict.fromkeys(realms):
                _wake(self.ctx, "pull", realm)
            return JSONResponse({"received": True, "companies": len(realms)})

        return await self._guarded("quickbooks", request, 401, accept)


def webhook_routes(
    ctx: Context, intake: Intake, metrics: WebMetrics, *, max_body: int = MAX_BODY
) -> list[BaseRoute]:
    """``POST /webhooks/stripe`` and ``POST /webhooks/quickbooks`` (signed, so exempt from CSRF)."""
    endpoints = _Endpoints(ctx, intake, metrics, max_body)
    return [
        Route(STRIPE_PATH, endpoints.stripe, methods=["POST"], name="webhook_stripe"),
        Route(QBO_PATH, endpoints.quickbooks, methods=["POST"], name="webhook_quickbooks"),
    ]
