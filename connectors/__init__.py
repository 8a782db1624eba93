"""The outside world: one package per vendor, each with its simulator."""
