"""Twilio's webhooks: texts customers send (``/webhooks/twilio``: STOP, START, HELP) and delivery
reports (``/webhooks/twilio/status``). Signed with the company's auth token (403 otherwise), so
exempt from CSRF; both answer at once."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context
from syncd.errors import PermanentError, SignatureError, TransientError
from syncd.stages import text_replies
from syncd.stages.text_replies import Signed
from syncd.stages.texts import STATUS_PATH
from syncd.web.metrics import WebMetrics
from syncd.web.webhooks import read_limited

log = structlog.get_logger(__name__)

INBOUND_PATH = "/webhooks/twilio"
MAX_FORM = 64 * 1024  # a text's form is a few hundred bytes


class _TwilioHooks:
    def __init__(self, ctx: Context, metrics: WebMetrics) -> None:
        self.ctx = ctx
        self.metrics = metrics

    async def _signed(self, request: Request) -> Signed:
        body = await read_limited(request, MAX_FORM)
        # Twilio signs the URL it was configured with: syncd's public address, not the one the
        # request reached behind a proxy.
        url = self.ctx.settings.public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        params = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        return Signed(url, params, request.headers.get("x-twilio-signature"))

    async def _answer(self, source: str, request: Request, handle: Callable[[Signed], Response]) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM:
            self.metrics.webhook(source, "too_large")
            return PlainTextResponse("too large", status_code=413)
        try:
            signed = await self._signed(request)
            response = await run_in_threadpool(handle, signed)
        except SignatureError as exc:
            self.metrics.webhook(source, "bad_signature")
            log.warning("webhook_signature_rejected", source=source, reason=str(exc))
            return PlainTextResponse("invalid signature", status_code=403)
        except PermanentError as exc:
            self.metrics.webhook(source, "invalid")
            log.warning("webhook_invalid", source=source, error=str(exc))
            return PlainTextResponse("invalid payload", status_code=400)
        except TransientError as exc:
            self.metrics.webhook(source, "error")
            log.warning("webhook_store_failed", source=source, error=str(exc))
            return PlainTextResponse("try again", status_code=503)
        except Exception:
            self.metrics.webhook(source, "error")
            log.exception("webhook_failed", source=source)
            return PlainTextResponse("error", status_code=500)
        self.metrics.webhook(source, "accepted")
        return response

    async def inbound(self, request: Request) -> Response:
        def handle(signed: Signed) -> Response:
            twiml = text_replies.answer_inbound(self.ctx, signed)
            return Response(twiml, media_type="text/xml")

        return await self._answer("twilio", request, handle)

    async def status(self, request: Request) -> Response:
        key = request.query_params.get("key")

        def handle(signed: Signed) -> Response:
            text_replies.record_status(self.ctx, signed, key)
            return Response(status_code=204)

        return await self._answer("twilio_status", request, handle)


def text_routes(ctx: Context, metrics: WebMetrics) -> list[BaseRoute]:
    """``POST /webhooks/twilio`` and ``POST /webhooks/twilio/status``."""
    hooks = _TwilioHooks(ctx, metrics)
    return [
        Route(INBOUND_PATH, hooks.inbound, methods=["POST"], name="webhook_twilio"),
        Route(STATUS_PATH, hooks.status, methods=["POST"], name="webhook_twilio_status"),
    ]
