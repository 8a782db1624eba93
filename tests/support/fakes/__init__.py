"""In-memory fakes of the connector Protocols (syncd.ports), each held to its connector's contract
tests; stage tests may use them where speed matters."""
