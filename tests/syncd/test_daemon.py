"""The daemon's listener: Nagle off on every accepted connection, so a keep-alive response is not
held back waiting for a delayed ACK."""

from __future__ import annotations

import asyncio
import http.client
import socket
import statistics
import threading
import time
from typing import Any

import uvicorn

from syncd.daemon import _listen


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
