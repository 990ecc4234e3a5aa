"""Runs as their checkpoints hold them: what an older version stored still reads."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from agent.domain import AuditEntry, Incident
from agent.service import runner
from agent.settings import Settings
from agent.state import State, run_usage

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


class OlderState(State, total=False):
    """The state of a version that stored the run's usage beside its model runs."""

    usage: dict[str, Any]


def store_run(settings: Settings, values: dict[str, Any], schema: type = State) -> None:
    """Write `values` as the checkpoint of the incident's thread, as a graph with `schema`
    would have left it."""
    graph = StateGraph(schema)
    graph.add_node("record", lambda _: values)
    graph.add_edge(START, "record")
    graph.add_edge("record", END)
    settings.home.mkdir(parents=True, exist_ok=True)
    checkpoints = sqlite3.connect(settings.home / "checkpoints.db", check_same_thread=False)
    with closing(checkpoints) as conn:
        saver = SqliteSaver(conn)
        saver.setup()
        config: RunnableConfig = {"configurable": {"thread_id": values["incident"]["id"]}}
        graph.compile(checkpointer=saver).invoke({}, config, durability="sync")


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


def test_a_checkpoint_that_still_holds_usage_reads_without_it(tmp_path: Any) -> None:
    settings = Settings(home=tmp_path / "state")
    stale = {"tokens_in": 1, "tokens_out": 1, "cost_usd": 9.99}
    store_run(settings, stored_values(usage=stale), OlderState)

    state = runner.incident_state(settings, INCIDENT.id)
    summary = runner.incident_status(settings, INCIDENT.id)

    assert "usage" not in state
    assert state["model_runs"] == MODEL_RUNS
    assert summary["status"] == "no_fix_found"
    assert summary["usage"] == run_usage(MODEL_RUNS)
    assert summary["usage"] == {"tokens_in": 2100, "tokens_out": 120, "cost_usd": 0.00811}


def test_usage_is_the_sum_of_the_model_runs() -> None:
    assert run_usage([]) == {"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
    tiny = {"tokens_in": 1, "tokens_out": 1, "cost_usd": 0.0000004}
    assert run_usage([tiny] * 3)["cost_usd"] == 0.000001, "rounded to six places once"
