"""close: the fix is verified; resolve the error and close the ticket with a summary."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Incident, PullRequest, Ticket, Verification
from agent.nodes import audit
from agent.prompting import render
from agent.state import State


def close(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    ticket = Ticket.model_validate(state["ticket"])
    pr = PullRequest.model_validate(state["pr"])
    verification = Verification.model_validate(state["verification"])
    resolution = render("resolution.md.j2", incident=incident, pr=pr, verification=verification)
    deps.errors.resolve(incident.fingerprint)
    closed = deps.tracker.close(ticket.key, resolution)
    return {
        "ticket": closed.model_dump(mode="json"),
        "status": "closed",
        "audit": audit(
            "close",
            verification.summary,
            f"closed {closed.key}",
            "the merged fix is verified",
            ticket=closed.key,
        ),
    }
