"""test: prove candidates in their own worktrees, best first; the first proven one wins."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Patch, TestReport
from agent.nodes import audit
from agent.proof import Baseline, prove
from agent.state import State


def prove_candidates(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    baseline = Baseline.model_validate(state["baseline"])
    candidates = [Patch.model_validate(c) for c in state.get("candidates", [])]

    reports: list[TestReport] = []
    proven: Patch | None = None
    for patch in candidates:
        report = prove(
            deps.repo,
            deps.sandbox,
            state["base_commit"],
            patch,
            state.get("must_fix", []),
            baseline,
            deps.scratch,
            diagnosis.reproduction,
        )
        reports.append(report)
        if report.proven:
            proven = patch
            break

    summary = "; ".join(f"{r.candidate_id}: {r.reason}" for r in reports)
    return {
        "reports": [r.model_dump(mode="json") for r in reports],
        "proven": proven.model_dump(mode="json") if proven else None,
        "audit": audit(
            "test",
            f"{len(candidates)} candidates in sandbox {deps.sandbox.name}",
            f"proven: {proven.id}" if proven else "none proven",
            summary or "no candidates",
            reports=[r.candidate_id for r in reports],
        ),
    }
