"""test: validate candidates best first, in parallel; the best-ranked proven one wins.

Without a must-fix test nothing is proven; the best candidate that holds is kept as a
suggestion for the ticket.
"""

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
    held = {r.candidate_id for r in reports if r.held and not r.proven}
    suggestion = next((c for c in candidates if c.id in held), None) if proven is None else None
    screened = sum(1 for r in reports if r.stage == "screen")
    summary = "; ".join(
        f"{r.candidate_id}: {r.reason}" for r in reports if r.stage != "screen" or r.untrusted
    )
    if screened:
        summary = f"{screened} dropped by the must-fix screen; {summary}"
    update: dict[str, Any] = {
        "reports": [r.model_dump(mode="json") for r in reports],
        "proven": proven.model_dump(mode="json") if proven else None,
        "audit": audit(
            "test",
            f"{len(candidates)} candidates in sandbox {deps.sandbox.name}, {len(reports)} decided",
            _decided(proven, suggestion),
            summary or "no candidates",
            reports=[r.candidate_id for r in reports],
        ),
    }
    if suggestion is not None:
        update["suggestion"] = suggestion.model_dump(mode="json")
    return update


def _decided(proven: Patch | None, suggestion: Patch | None) -> str:
    if proven is not None:
        return f"proven: {proven.id}"
    if suggestion is not None:
        return f"none proven; {suggestion.id} holds, kept as an unproven suggestion"
    return "none proven"
