"""escalate: no proven fix, or a regression after the merge. Hand the incident to a human."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Status, TestReport, Ticket
from agent.nodes import audit
from agent.prompting import render
from agent.state import State


def escalate(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    status, why = _reason(state)
    reports = [TestReport.model_validate(r) for r in state.get("reports", [])]
    ticket = Ticket.model_validate(state["ticket"])
    body = render(
        "escalation.md.j2",
        why=why,
        reports=reports,
        verification=state.get("verification"),
    )
    deps.tracker.comment(ticket.key, f"escalation:{status}", body)
    ticket = deps.tracker.transition(ticket.key, "reopened" if status == "regressed" else "open")
    return {
        "ticket": ticket.model_dump(mode="json"),
        "status": status,
        "escalation": {"status": status, "why": why},
        "audit": audit("escalate", f"{len(reports)} candidates tested", status, why),
    }


def _reason(state: State) -> tuple[Status, str]:
    verification = state.get("verification")
    if verification is not None and not verification["verified"]:
        return "regressed", f"after the merge: {verification['summary']}"
    diagnosis = state.get("diagnosis") or {}
    if not diagnosis.get("suspects"):
        return "escalated", "root cause found no suspect in the repository"
    runs = state.get("model_runs") or []
    if runs and runs[-1].get("budget_exhausted"):
        last = runs[-1]
        return "budget_exceeded", f"the {last['engine']} engine stopped on its {last['stop']}"
    if not state.get("reports"):
        return "no_fix_found", "no engine produced a candidate that the guardrails allow"
    rounds = state.get("round", 0)
    return "no_fix_found", f"no candidate was proven in {rounds} fix round(s)"
