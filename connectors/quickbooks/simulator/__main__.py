"""``python -m connectors.quickbooks.simulator``: the same command as ``syncd simulate quickbooks``."""

from connectors.quickbooks.simulator.cli import PROG, command

if __name__ == "__main__":
    command(prog_name=PROG)
