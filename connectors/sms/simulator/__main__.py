"""``python -m connectors.sms.simulator``: the same command as ``syncd simulate twilio``."""

from connectors.sms.simulator.cli import PROG, command

if __name__ == "__main__":
    command(prog_name=PROG)
