"""await_review: stop for a human. No side effects here: LangGraph re-runs this node on resume."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.deps import Deps
from agent.domain import PullRequest, ReviewDecision
from agent.nodes import audit
from agent.state import State


def await_review(state: State, runtime: Runtime[Deps]) -> State:
    pr = PullRequest.model_validate(state["pr"])
    answer = interrupt({"pr": pr.id, "branch": pr.branch, "awaiting": "review"})
    decision = ReviewDecision.model_validate(answer)
    return {
        "review": decision.model_dump(mode="json"),
        "status": "awaiting_review" if decision.action == "approve" else "running",
        "audit": audit(
            "await_review",
            f"PR #{pr.id}",
            decision.action,
            decision.comment or f"{decision.reviewer} chose {decision.action}",
            reviewer=decision.reviewer,
        ),
    }
