"""The graph's state: domain records as JSON-ready dicts, never a chat log.

Figures that follow from the records are derived here rather than stored beside them
(`run_usage` sums `model_runs`), so the two can never disagree.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
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
    suggestion: dict[str, Any] | None
    """The best candidate that holds where nothing can be proven (no test failed before the
    change): it goes on the ticket as an unproven suggestion, never into a PR."""
    evidence: dict[str, Any] | None
    """How the proven candidate weighs against the evidence bar (`agent.proof.bar.Evidence`);
    when it does not clear it, the candidate is also the `suggestion` and no PR opens."""
    regression: dict[str, Any] | None
    """The regression test the PR ships (`agent.proof.regression.RegressionTest`), with its
    outcomes on the base commit and with the fix."""
    pr: dict[str, Any] | None
    review: dict[str, Any] | None
    release_wait: dict[str, Any] | None
    """find_release's finding: `done`, the `release` that contains the merge (or None), the
    `deadline` of the wait, and `why`."""
    verification: dict[str, Any] | None
    escalation: dict[str, Any] | None
    run: dict[str, Any]
    model_runs: Annotated[list[dict[str, Any]], operator.add]
    """One record per engine call that used a model: figures, why it stopped, transcript file.
    `run_usage` sums them; a checkpoint of an older version may still hold a `usage` key,
    which has no channel here and is not read."""
    audit: Annotated[list[dict[str, Any]], operator.add]


class Usage(TypedDict):
    """A run's model usage: every input token (cached or not), output tokens, dollars."""

    tokens_in: int
    tokens_out: int
    cost_usd: float


def run_usage(model_runs: Iterable[Mapping[str, Any]]) -> Usage:
    """The model usage of a run: the sum of its `model_runs` records, the cost rounded to six
    places as each record's is. No model run: all zero."""
    runs = list(model_runs)
    return {
        "tokens_in": sum(int(run["tokens_in"]) for run in runs),
        "tokens_out": sum(int(run["tokens_out"]) for run in runs),
        "cost_usd": round(sum((float(run["cost_usd"]) for run in runs), 0.0), 6),
    }
