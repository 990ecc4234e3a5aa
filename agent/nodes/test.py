"""test: validate candidates best first, in parallel; the best-ranked proven one wins.

Without a must-fix test nothing is proven; the best candidate that holds is kept as a
suggestion for the ticket. A proven candidate is weighed against the evidence bar
(`agent.proof.bar`): below it, it too becomes a suggestion and no PR opens. Above it, its
reproduction is proven once more as the regression test the PR ships
(`agent.proof.regression`).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Incident, Patch, TestReport
from agent.guardrails.redaction import redact, secrets_of
from agent.nodes import audit
from agent.proof import regression
from agent.proof.bar import weigh
from agent.proof.prove import Baseline
from agent.proof.search import Search, validate
from agent.state import State


def prove_candidates(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    baseline = Baseline.model_validate(state["baseline"])
    candidates = [Patch.model_validate(c) for c in state.get("candidates", [])]

    settings = deps.settings
    search = Search(
        jobs=settings.validation_jobs,
        seconds=settings.search_seconds,
        proven_wanted=settings.pr_min_proven,
    )
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
    }
    if suggestion is not None:
        update["suggestion"] = suggestion.model_dump(mode="json")
    decided = _decided(proven, suggestion)
    data: dict[str, Any] = {}
    if proven is not None:
        weighed, note, data = _weighed(state, deps, diagnosis, proven, candidates, reports)
        update |= weighed
        decided = f"{decided}; {note}"
    update["audit"] = audit(
        "test",
        f"{len(candidates)} candidates in sandbox {deps.sandbox.name}, {len(reports)} decided",
        decided,
        summary or "no candidates",
        reports=[r.candidate_id for r in reports],
        **data,
    )
    return update


def _weighed(
    state: State,
    deps: Deps,
    diagnosis: Diagnosis,
    chosen: Patch,
    candidates: list[Patch],
    reports: list[TestReport],
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The evidence for the proven candidate; below the bar it becomes the suggestion, above
    it its reproduction is proven as the PR's regression test (when the setting asks). Also
    what the audit says of it, in words and as data."""
    incident = Incident.model_validate(state["incident"])
    proven_ids = {r.candidate_id for r in reports if r.proven}
    evidence = weigh(
        deps.settings,
        diagnosis,
        incident.failing_tests,
        state.get("must_fix", []),
        chosen,
        [c for c in candidates if c.id in proven_ids],
        reports,
    )
    update: dict[str, Any] = {"evidence": evidence.model_dump(mode="json")}
    data: dict[str, Any] = {"evidence": update["evidence"]}
    if not evidence.clears:
        update["suggestion"] = chosen.model_dump(mode="json")
        below = "; ".join(evidence.below)
        return update, f"abstain: below the evidence bar for a PR ({below})", data
    reproduction = diagnosis.reproduction
    if not (deps.settings.regression_test and reproduction and reproduction.reproduced):
        return update, "clears the evidence bar", data
    secrets = secrets_of(deps.settings)
    test = regression.build(
        deps.workbench(),
        state["base_commit"],
        chosen,
        incident,
        reproduction,
        lambda text: redact(text, secrets),
    )
    update["regression"] = test.model_dump(mode="json")
    data["regression"] = test.model_dump(mode="json", exclude={"source"})
    masked = f"; {test.masked} captured value(s) replaced by stand-ins" if test.masked else ""
    shipped = f"regression test {test.path}: {test.reason}{masked}"
    return update, f"clears the evidence bar; {shipped if test.shipped else test.reason}", data


def _decided(proven: Patch | None, suggestion: Patch | None) -> str:
    if proven is not None:
        return f"proven: {proven.id}"
    if suggestion is not None:
        return f"none proven; {suggestion.id} holds, kept as an unproven suggestion"
    return "none proven"
