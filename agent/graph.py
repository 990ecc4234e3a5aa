"""The loop as one LangGraph StateGraph. Routing functions are pure and name the next node."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.controls.gates import admitted, before_pr, guarded
from agent.deps import Deps
from agent.nodes.await_release import await_release
from agent.nodes.await_review import await_review
from agent.nodes.close import close
from agent.nodes.detect import detect
from agent.nodes.escalate import escalate
from agent.nodes.find_release import find_release
from agent.nodes.fix import fix
from agent.nodes.open_pr import open_pr
from agent.nodes.reject import reject
from agent.nodes.root_cause import root_cause
from agent.nodes.test import prove_candidates
from agent.nodes.ticket import ticket
from agent.nodes.verify import verify
from agent.notify import announced
from agent.state import State


def after_detect(state: State) -> Literal["ticket", "__end__"]:
    return "ticket" if state.get("status") == "running" else "__end__"


def after_root_cause(state: State) -> Literal["fix", "escalate"]:
    diagnosis = state.get("diagnosis") or {}
    return "fix" if diagnosis.get("suspects") else "escalate"


def after_fix(state: State) -> Literal["test", "escalate"]:
    return "test" if state.get("candidates") else "escalate"


def make_after_test(max_rounds: int) -> Any:
    def after_test(state: State) -> Literal["open_pr", "fix", "escalate"]:
        if state.get("proven"):
            # Below the evidence bar the proven fix is a suggestion on the ticket, not a PR.
            clears = (state.get("evidence") or {}).get("clears", True)
            return "open_pr" if clears else "escalate"
        # A candidate whose tests forged their outcome: hand the incident to a human now.
        if any(report.get("untrusted") for report in state.get("reports", [])):
            return "escalate"
        # Without a test that failed before the change, no later round can prove anything.
        if state.get("must_fix") and state.get("round", 0) < max_rounds:
            return "fix"
        return "escalate"

    return after_test


def after_review(state: State) -> Literal["find_release", "await_review", "reject"]:
    action = (state.get("review") or {}).get("action")
    if action == "merge":
        return "find_release"
    if action == "reject":
        return "reject"
    return "await_review"


def after_open_pr(state: State) -> Literal["await_review", "__end__"]:
    return "__end__" if state.get("status") == "diagnosed" else "await_review"


def after_find_release(state: State) -> Literal["verify", "await_release"]:
    return "verify" if (state.get("release_wait") or {}).get("done") else "await_release"


def after_verify(state: State) -> Literal["close", "escalate"]:
    return "close" if (state.get("verification") or {}).get("verified") else "escalate"


ANNOUNCED = ("ticket", "open_pr", "verify")
"""The nodes whose outcome goes to the incident's Slack thread (`agent.notify`)."""


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None, max_fix_rounds: int = 3
) -> CompiledStateGraph[Any, Any, Any, Any]:
    graph = StateGraph(State, context_schema=Deps)
    for name, node in [
        # The operator controls hold a run before each node that writes outside fixloop.
        ("detect", admitted(detect)),
        ("ticket", guarded("ticket", ticket)),
        ("root_cause", root_cause),
        ("fix", guarded("fix", fix)),
        ("test", prove_candidates),
        ("open_pr", before_pr(open_pr)),
        ("await_review", await_review),
        ("find_release", find_release),
        ("await_release", await_release),
        ("verify", guarded("verify", verify)),
        ("close", guarded("close", close)),
        ("escalate", guarded("escalate", escalate)),
        ("reject", guarded("reject", reject)),
    ]:
        graph.add_node(name, announced(name, node) if name in ANNOUNCED else node)
    graph.add_edge(START, "detect")
    graph.add_conditional_edges("detect", after_detect)
    graph.add_edge("ticket", "root_cause")
    graph.add_conditional_edges("root_cause", after_root_cause)
    graph.add_conditional_edges("fix", after_fix)
    graph.add_conditional_edges("test", make_after_test(max_fix_rounds))
    graph.add_conditional_edges("open_pr", after_open_pr)
    graph.add_conditional_edges("await_review", after_review)
    graph.add_conditional_edges("find_release", after_find_release)
    graph.add_edge("await_release", "find_release")
    graph.add_conditional_edges("verify", after_verify)
    graph.add_edge("close", END)
    graph.add_edge("escalate", END)
    graph.add_edge("reject", END)
    return graph.compile(checkpointer=checkpointer)
