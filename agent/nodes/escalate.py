"""escalate: no proven fix, or a regression after the merge. Hand the incident to a human."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Patch, Status, TestReport, Ticket
from agent.nodes import audit
from agent.prompting import render
from agent.proof.prove import Baseline
from agent.state import State


def escalate(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    status, why = _reason(state)
    reports = [TestReport.model_validate(r) for r in state.get("reports", [])]
    ticket = Ticket.model_validate(state["ticket"])
    found = state.get("suggestion")
    suggestion = Patch.model_validate(found) if found and status != "regressed" else None
    body = render(
        "escalation.md.j2",
        why=why,
        reports=reports,
        verification=state.get("verification"),
        must_fix=_before(state),
        suggestion=suggestion,
        evidence=state.get("evidence"),
        suggestion_report=next(
            (r for r in reports if suggestion and r.candidate_id == suggestion.id), None
        ),
    )
    deps.tracker.comment(ticket.key, f"escalation:{status}", body)
    ticket = deps.tracker.transition(ticket.key, "reopened" if status == "regressed" else "open")
    return {
        "ticket": ticket.model_dump(mode="json"),
        "status": status,
        "escalation": {"status": status, "why": why},
        "audit": audit(
            "escalate",
            f"{len(reports)} candidates tested",
            status,
            why + (f"; unproven suggestion {suggestion.id} on the ticket" if suggestion else ""),
            suggestion=suggestion.id if suggestion else None,
        ),
    }


def _before(state: State) -> dict[str, str | None]:
    """Each must-fix test with its outcome on the base commit."""
    if not state.get("baseline"):
        return dict.fromkeys(state.get("must_fix", []))
    baseline = Baseline.model_validate(state["baseline"])
    return {test: baseline.outcome(test) for test in state.get("must_fix", [])}


def _reason(state: State) -> tuple[Status, str]:
    verification = state.get("verification")
    if verification is not None and not verification["verified"]:
        return "regressed", f"after the merge: {verification['summary']}"
    evidence = state.get("evidence") or {}
    if state.get("proven") and not evidence.get("clears", True):
        return "escalated", (
            "a candidate is proven, but the evidence is below the bar for a pull request: "
            + "; ".join(evidence.get("below") or [])
        )
    diagnosis = state.get("diagnosis") or {}
    if not diagnosis.get("suspects"):
        return "escalated", "root cause found no suspect in the repository"
    runs = state.get("model_runs") or []
    if runs and runs[-1].get("budget_exhausted"):
        last = runs[-1]
        return "budget_exceeded", f"the {last['engine']} engine stopped on its {last['stop']}"
    untrusted = [r for r in state.get("reports", []) if r.get("untrusted")]
    if untrusted:
        first = untrusted[0]
        return "escalated", (
            f"the tests of candidate {first['candidate_id']} forged or contradicted their own "
            f"outcome, so it cannot be proven ({first['reason']})"
        )
    if not state.get("reports"):
        return "no_fix_found", "no engine produced a candidate that the guardrails allow"
    if not state.get("must_fix"):
        return "escalated", (
            "no test fails like the incident on the base commit (no reproduction failed like "
            "it, no reported test fails), so no candidate can be proven: a pull request needs a "
            "test that failed before the change and passes after it"
        )
    rounds = state.get("round", 0)
    return "no_fix_found", f"no candidate was proven in {rounds} fix round(s)"
