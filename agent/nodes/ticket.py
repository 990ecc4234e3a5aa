"""ticket: one ticket per fingerprint, found again rather than made twice."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Incident
from agent.nodes import audit
from agent.prompting import render
from agent.state import State


def ticket(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    body = render("ticket.md.j2", incident=incident, repo=str(deps.repo.path))
    found = deps.tracker.ensure_ticket(incident, incident.title, body)
    return {
        "ticket": found.model_dump(mode="json"),
        "audit": audit(
            "ticket",
            f"incident {incident.id}",
            f"ticket {found.key}",
            "created for this fingerprint"
            if found.incident_id == incident.id
            else f"reopened work on ticket of {found.incident_id}",
            ticket=found.key,
        ),
    }
