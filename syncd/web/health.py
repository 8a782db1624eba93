"""``GET /healthz``: 200 when the store answers, 503 when it does not."""

from __future__ import annotations

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncd.context import Context


def database_ok(ctx: Context) -> bool:
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def health_routes(ctx: Context) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        if await run_in_threadpool(database_ok, ctx):
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)

    return [Route("/healthz", healthz, methods=["GET"], name="healthz")]
