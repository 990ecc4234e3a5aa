"""Around the graph: the CLI, the runner, the HTTP server, its receiver and its worker."""
