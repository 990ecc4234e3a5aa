"""Runs written straight into the checkpoint store, as a graph would have left them."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agent import wiring
from agent.domain import AuditEntry, Incident
from agent.settings import Settings
from agent.state import State

INCIDENT = Incident(
    id="fx-0123456789ab",
    source="sentry_event",
    fingerprint="f" * 40,
    title="ZeroDivisionError: division by zero in average_basket",
)
MODEL_RUNS = [
    {"engine": "claude", "round": 1, "tokens_in": 1200, "tokens_out": 80, "cost_usd": 0.0048},
    {"engine": "claude", "round": 2, "tokens_in": 900, "tokens_out": 40, "cost_usd": 0.00331},
]


def store_run(settings: Settings, values: dict[str, Any], schema: type = State) -> None:
    """Write `values` as the checkpoint of the incident's thread, as a graph with `schema`
    would have left it."""
    graph = StateGraph(schema)
    graph.add_node("record", lambda _: values)
    graph.add_edge(START, "record")
    graph.add_edge("record", END)
    with wiring.checkpoints(settings) as checkpoints:
        config: RunnableConfig = {"configurable": {"thread_id": values["incident"]["id"]}}
        graph.compile(checkpointer=checkpoints.saver).invoke({}, config, durability="sync")


def stored_values(**extra: Any) -> dict[str, Any]:
    entry = AuditEntry(node="escalate", saw="2 candidates tested", decided="no_fix_found", why="x")
    return {
        "incident": INCIDENT.model_dump(mode="json"),
        "repo": "/nonexistent/checkout",
        "status": "no_fix_found",
        "ticket": None,
        "pr": None,
        "model_runs": MODEL_RUNS,
        "audit": [entry.model_dump(mode="json")],
    } | extra
