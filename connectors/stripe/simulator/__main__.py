"""``python -m connectors.stripe.simulator``: the same command as ``syncd simulate stripe``."""

from connectors.stripe.simulator.cli import PROG, command

if __name__ == "__main__":
    command(prog_name=PROG)
