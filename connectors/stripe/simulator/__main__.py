"""``python -m connectors.stripe.simulator --host H --port P``: run the simulator until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence

from connectors.stripe.simulator.simulator import StripeSimulator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.stripe.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_sim")
    parser.add_argument("--public-url", default=None, help="base URL payers reach the hosted page on")
    parser.add_argument(
        "--webhook", action="append", default=[], metavar="URL=SECRET", help="endpoint to POST events to"
    )
    args = parser.parse_args(argv)
    sim = StripeSimulator(api_key=args.api_key, host=args.host, port=args.port, public_url=args.public_url)
    for spec in args.webhook:
        url, _, secret = spec.partition("=")
        sim.add_webhook_endpoint(url, secret or "whsec_sim")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sim:
        print(f"stripe simulator on {sim.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
