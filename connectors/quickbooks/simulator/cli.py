"""Command line: serve a seeded simulated QBO company until interrupted, printing URLs and a token pair."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Sequence

from connectors.quickbooks.simulator.simulator import QboSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.quickbooks.simulator",
        description="Serve a simulated QuickBooks Online company.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realm-id", default="9130350000000001")
    parser.add_argument("--client-id", default="sim-client")
    parser.add_argument("--client-secret", default="sim-secret")
    parser.add_argument("--verifier-token", default="sim-verifier")
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-format", choices=("legacy", "cloudevents"), default="legacy")
    parser.add_argument("--currencies", default="USD,CAD", help="home currency first")
    return parser


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set, for callers embedding it). Returns the exit code."""
    args = _parser().parse_args(argv)
    sim = QboSimulator(
        seed=args.seed,
        invoices=args.invoices,
        realm_id=args.realm_id,
        client_id=args.client_id,
        client_secret=args.client_secret,
        verifier_token=args.verifier_token,
        webhook_url=args.webhook_url,
        currencies=tuple(c.strip().upper() for c in args.currencies.split(",") if c.strip()),
        host=args.host,
        port=args.port,
        webhook_format=args.webhook_format,
    )
    done = stop or threading.Event()
    if stop is None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: done.set())
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        tokens = sim.mint_tokens()
        info = {
            "url": sim.url,
            "api_base_url": sim.api_base_url,
            "discovery_url": sim.discovery_url,
            "authorize_url": sim.authorize_url,
            "ui_url": sim.url + "/",
            "realm_id": sim.realm_id,
            "client_id": args.client_id,
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
        }
        print(f"QuickBooks simulator for {args.invoices} invoices at {sim.url}", flush=True)
        print(json.dumps(info, indent=2), flush=True)
        done.wait()
    return 0
