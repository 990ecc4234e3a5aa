"""reject: the reviewer closed the PR. Nothing is deleted; the reason is recorded."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import PullRequest, ReviewDecision, Ticket
from agent.nodes import audit
from agent.state import State


def reject(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    ticket = Ticket.model_validate(state["ticket"])
    pr = PullRequest.model_validate(state["pr"])
    decision = ReviewDecision.model_validate(state["review"])
    reason = decision.comment or "no reason given"
    deps.tracker.comment(
        ticket.key, f"rejected:{pr.id}", f"PR #{pr.id} was rejected by the reviewer: {reason}"
    )
    ticket = deps.tracker.transition(ticket.key, "open")
    return {
        "ticket": ticket.model_dump(mode="json"),
        "status": "rejected",
        "audit": audit("reject", f"PR #{pr.id}", "rejected", reason, pr=pr.id),
    }
