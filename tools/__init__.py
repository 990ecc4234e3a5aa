"""fixloop's adapters: one module per outside system, each implementing a port of `agent.ports`."""
