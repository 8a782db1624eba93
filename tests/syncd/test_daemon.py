"""The daemon's listener and server: Nagle off on every accepted connection (a keep-alive response
is not held back waiting for a delayed ACK), and https behind any proxy when public_url is https."""

from __future__ import annotations

import asyncio
import http.client
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from syncd.bootstrap import build_context
from syncd.config import Settings, parse
from syncd.daemon import server_config
from syncd.preflight import listen as _listen
from syncd.secrets import SecretBox
from syncd.store.migrate import upgrade
from syncd.web.app import create_app


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_accepted_connections_have_tcp_nodelay() -> None:
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def serve_once() -> None:
        listener = _listen("127.0.0.1", 0)
        port = listener.getsockname()[1]
        # The same call uvicorn makes with the daemon's socket.
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(serve_once())
    assert seen and seen[0] != 0


def test_keep_alive_responses_are_not_delayed() -> None:
    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_ok, lifespan="off", access_log=False, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        took = []
        for _ in range(30):
            start = time.perf_counter()
            client.request("POST", "/webhooks/stripe", body=b"{}")
            client.getresponse().read()
            took.append(time.perf_counter() - start)
        client.close()
        # With Nagle on, each response waited ~40 ms for the client's delayed ACK.
        assert statistics.median(took) < 0.02, f"median {statistics.median(took) * 1000:.1f} ms"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def _serve(app: Any, config: uvicorn.Config) -> tuple[uvicorn.Server, threading.Thread, socket.socket]:
    listener = _listen("127.0.0.1", 0)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, listener


def _settings(tmp_path: Path, **web: Any) -> Settings:
    return parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
            "web": {"public_url": "https://pay.example.com", **web},
            "stripe": {"api_key": "sk_test_123", "webhook_secret": "whsec_test"},
            "company": [{"realm_id": "111"}],
        }
    )


def _get_through_proxy(port: int, proxy: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    # A TLS proxy on another address than 127.0.0.1 (loopback answers for all of 127/8).
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(proxy, 0))
    client.request("GET", path, headers=headers)
    answer = client.getresponse()
    answer.read()
    client.close()
    return answer


@pytest.mark.parametrize("trusted", [None, ["10.0.0.0/8"]])
def test_hsts_behind_a_proxy_uvicorn_does_not_trust(tmp_path: Path, trusted: list[str] | None) -> None:
    settings = _settings(tmp_path, **({} if trusted is None else {"trusted_proxies": trusted}))
    ctx = build_context(settings)
    upgrade(ctx.db)
    app = create_app(ctx)
    server, thread, listener = _serve(app, server_config(settings, app))
    try:
        port = listener.getsockname()[1]
        answer = _get_through_proxy(port, "127.0.0.9", "/healthz", {"X-Forwarded-Proto": "https"})
        assert answer.status == 200
        assert (answer.getheader("strict-transport-security") or "").startswith("max-age=")
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
        ctx.db.dispose()


def test_trusted_proxies_reach_uvicorn(tmp_path: Path) -> None:
    settings = _settings(tmp_path, trusted_proxies=["10.1.0.0/16", "127.0.0.9"])
    config = server_config(settings, create_app(build_context(settings)))
    assert config.forwarded_allow_ips == ["10.1.0.0/16", "127.0.0.9"]
    assert config.proxy_headers and not config.access_log
