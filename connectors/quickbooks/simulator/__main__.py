"""``python -m connectors.quickbooks.simulator``: see :mod:`connectors.quickbooks.simulator.cli`."""

import sys

from connectors.quickbooks.simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
