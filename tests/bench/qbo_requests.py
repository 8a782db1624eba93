"""Print the QBO request budget of syncd: `python tests/bench/qbo_requests.py [invoices]`."""

from __future__ import annotations

import json
import sys

from connectors.quickbooks.bench import run_qbo_bench

TARGETS = {"initial_pull_requests": 11, "idle_poll_requests": 1, "payment_write_requests": 34}


def main(argv: list[str]) -> int:
    invoices = int(argv[1]) if len(argv) > 1 else 10_000
    result = run_qbo_bench(invoices)
    print(json.dumps(result, indent=2))
    ok = True
    for key, target in TARGETS.items():
        verdict = "ok" if result[key] <= target else "OVER"
        ok &= verdict == "ok"
        print(f"{key:28} {result[key]:>6}  (target <= {target}) {verdict}")
    print(f"{'metered reads / 1000 inv':28} {result['metered_reads_per_1000_invoices']:>6}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
