"""Guardrails: what a candidate may change, new dependencies, and redaction of secrets."""
