"""Node wrappers that hold a run before it writes anything outside fixloop.

A wrapped node first asks the controls; a run they hold calls `interrupt()` before the node
does anything, so the node runs again from its start when the run goes on (LangGraph's resume),
and re-asks. Every answer of `interrupt()` only means "look again": what holds a run is read
fresh each time. When the node finally runs, the holds it went through join the run's audit.
"""

from __future__ import annotations

from typing import Any, Protocol

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.controls import GLOBAL, limits, scope_name
from agent.deps import Deps
from agent.domain import Patch, Pause, TestReport, Ticket, bot_branch
from agent.nodes import audit
from agent.prompting import render
from agent.state import State


class Node(Protocol):
    """A graph node as LangGraph calls it: the state, and the run's context as `runtime`."""

    def __call__(self, state: State, runtime: Runtime[Deps]) -> Any: ...


def pause_of(deps: Deps) -> Pause | None:
    """The pause that holds this run's repository (its own, or all of fixloop's), if any."""
    scopes = {GLOBAL, deps.settings.repo_table}
    return next((p for p in deps.controls.pauses() if p.scope in scopes), None)


def hold_while_paused(deps: Deps, incident_id: str, step: str) -> None:
    while (pause := pause_of(deps)) is not None:
        detail = {"before": step, "by": pause.by, "reason": pause.reason}
        key = f"held_paused:{incident_id}:{pause.scope}:{pause.since.timestamp()}"
        deps.controls.log(key, "held_paused", pause.scope, incident_id, detail)
        interrupt(
            {
                "awaiting": "unpause",
                "before": step,
                "scope": pause.scope,
                "since": pause.since.isoformat(),
                "by": pause.by,
                "reason": pause.reason,
            }
        )


def guarded(step: str, node: Node) -> Node:
    """`node`, run only while neither fixloop nor the run's repository is paused."""

    def run(state: State, runtime: Runtime[Deps]) -> Any:
        deps = runtime.context
        hold_while_paused(deps, state["incident"]["id"], step)
        return _with_holds(state, deps, node(state, runtime))

    run.__name__ = step
    return run


def admitted(node: Node) -> Node:
    """The first node: at automation `off` the run ends `recorded`, else it waits while paused."""

    def run(state: State, runtime: Runtime[Deps]) -> Any:
        deps = runtime.context
        incident_id = state["incident"]["id"]
        if deps.settings.automation == "off":
            scope = scope_name(deps.settings.repo_table)
            deps.controls.log(f"recorded:{incident_id}", "recorded", scope, incident_id, {})
            return {
                "status": "recorded",
                "audit": audit(
                    "detect",
                    f"incident {incident_id}",
                    "recorded",
                    f"automation is 'off' for {_where(deps)}: the event is recorded, nothing "
                    "else is done",
                ),
            }
        hold_while_paused(deps, incident_id, "detect")
        return _with_holds(state, deps, node(state, runtime))

    run.__name__ = "detect"
    return run


def before_pr(node: Node) -> Node:
    """open_pr, held while paused and while a PR limit is reached; at automation `diagnose`
    the proven change goes on the ticket as a suggested diff instead (status `diagnosed`)."""

    def run(state: State, runtime: Runtime[Deps]) -> Any:
        deps = runtime.context
        incident_id = state["incident"]["id"]
        while True:
            hold_while_paused(deps, incident_id, "open_pr")
            if deps.settings.automation == "diagnose":
                return _with_holds(state, deps, _suggest(state, deps))
            if deps.forge.find_pr(bot_branch(incident_id)) is not None:
                break  # its PR is open already: a run resumed after a crash
            limit = limits.reached(deps)
            if limit is None:
                break
            _defer(state, deps, limit)
            interrupt({"awaiting": "place", **limit, "why": limits.describe(limit)})
        return _with_holds(state, deps, node(state, runtime))

    run.__name__ = "open_pr"
    return run


def _defer(state: State, deps: Deps, limit: dict[str, Any]) -> None:
    incident_id = state["incident"]["id"]
    scope = scope_name(deps.settings.repo_table)
    ticket = Ticket.model_validate(state["ticket"])
    deps.tracker.comment(
        ticket.key,
        f"deferred:{limit['limit']}",
        f"A fix is proven; its pull request waits: {limits.describe(limit)}. It opens when "
        "a place frees up (a fixloop PR is merged or closed, or the day rolls over).",
    )
    detail = {**limit, "why": limits.describe(limit)}
    deps.controls.log(
        f"deferred:{incident_id}:{limit['limit']}", "deferred", scope, incident_id, detail
    )


def _suggest(state: State, deps: Deps) -> dict[str, Any]:
    incident_id = state["incident"]["id"]
    patch = Patch.model_validate(state["proven"])
    report = next(
        TestReport.model_validate(r)
        for r in reversed(state.get("reports", []))
        if r["candidate_id"] == patch.id
    )
    ticket = Ticket.model_validate(state["ticket"])
    body = render(
        "ticket_suggestion.md.j2", patch=patch, report=report, base_commit=state["base_commit"]
    )
    deps.tracker.comment(ticket.key, f"suggestion:{patch.id}", body)
    scope = scope_name(deps.settings.repo_table)
    deps.controls.log(
        f"diagnosed:{incident_id}", "diagnosed", scope, incident_id, {"candidate": patch.id}
    )
    return {
        "status": "diagnosed",
        "audit": audit(
            "open_pr",
            f"proven candidate {patch.id}",
            "diagnosed",
            f"automation is 'diagnose' for {_where(deps)}: the proven change is on ticket "
            f"{ticket.key} as a suggested diff; no branch, no PR",
            candidate=patch.id,
        ),
    }


def _where(deps: Deps) -> str:
    table = deps.settings.repo_table
    return f"repository {table}" if table else "fixloop"


HELD_KINDS = {"held_paused": "paused", "deferred": "deferred"}


def _with_holds(state: State, deps: Deps, update: Any) -> Any:
    """The node's update with an audit entry for each hold of this run not yet in its audit."""
    if not isinstance(update, dict):
        return update
    seen = {entry.get("data", {}).get("control") for entry in state.get("audit", [])}
    held = [
        entry
        for entry in deps.controls.entries(state["incident"]["id"])
        if entry.kind in HELD_KINDS and entry.key not in seen
    ]
    if not held:
        return update
    entries = []
    for entry in held:
        detail = entry.detail
        why = (
            f"paused by {detail.get('by')}: {detail.get('reason') or 'no reason given'}"
            if entry.kind == "held_paused"
            else str(detail.get("why"))
        )
        entries += audit(
            "controls",
            f"{HELD_KINDS[entry.kind]} since {entry.at.isoformat(timespec='seconds')}",
            f"held before {detail.get('before', 'open_pr')}, then went on",
            why,
            control=entry.key,
        )
    return {**update, "audit": entries + list(update.get("audit", []))}
