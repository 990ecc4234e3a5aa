"""test: validate candidates best first, in parallel; the best-ranked proven one wins."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Patch
from agent.nodes import audit
from agent.proof.prove import Baseline
from agent.proof.search import Search, validate
from agent.state import State


def prove_candidates(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    baseline = Baseline.model_validate(state["baseline"])
    candidates = [Patch.model_validate(c) for c in state.get("candidates", [])]

    settings = deps.settings
    search = Search(jobs=settings.validation_jobs, seconds=settings.search_seconds)
    reports, proven = validate(
        deps.workbench(),
        candidates,
        baseline,
        state.get("must_fix", []),
        diagnosis.reproduction,
        search,
    )
    screened = sum(1 for r in reports if r.stage == "screen")
    summary = "; ".join(f"{r.candidate_id}: {r.reason}" for r in reports if r.stage != "screen")
    if screened:
        summary = f"{screened} dropped by the must-fix screen; {summary}"
    return {
        "reports": [r.model_dump(mode="json") for r in reports],
        "proven": proven.model_dump(mode="json") if proven else None,
        "audit": audit(
            "test",
            f"{len(candidates)} candidates in sandbox {deps.sandbox.name}, {len(reports)} decided",
            f"proven: {proven.id}" if proven else "none proven",
            summary or "no candidates",
            reports=[r.candidate_id for r in reports],
        ),
    }
