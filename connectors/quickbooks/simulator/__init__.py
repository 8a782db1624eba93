"""QuickBooks Online simulator: a real HTTP server speaking QBO v3 and Intuit OAuth for tests and the demo."""

from connectors.quickbooks.simulator.simulator import QboSimulator

__all__ = ["QboSimulator"]
