"""The graph's state: domain records as JSON-ready dicts, never a chat log."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from agent.domain import Status


class State(TypedDict, total=False):
    incident: dict[str, Any]
    repo: str
    base_commit: str
    status: Status
    ticket: dict[str, Any] | None
    diagnosis: dict[str, Any] | None
    baseline: dict[str, Any] | None
    must_fix: list[str]
    round: int
    tried: list[str]
    candidates: list[dict[str, Any]]
    reports: Annotated[list[dict[str, Any]], operator.add]
    proven: dict[str, Any] | None
    pr: dict[str, Any] | None
    review: dict[str, Any] | None
    release_wait: dict[str, Any] | None
    """find_release's finding: `done`, the `release` that contains the merge (or None), the
    `deadline` of the wait, and `why`."""
    verification: dict[str, Any] | None
    escalation: dict[str, Any] | None
    run: dict[str, Any]
    usage: dict[str, Any]
    """Cumulative model usage of the run: `tokens_in`, `tokens_out`, `cost_usd`."""
    model_runs: Annotated[list[dict[str, Any]], operator.add]
    """One record per engine call that used a model: figures, why it stopped, transcript file."""
    audit: Annotated[list[dict[str, Any]], operator.add]
