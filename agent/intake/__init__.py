"""Detect: payloads of every shape read into one Incident (events, tracebacks, webhooks, links)."""
