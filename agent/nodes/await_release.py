"""await_release: stop until the next check for the release (a worker tick, `fixloop
verify-pending`). No side effects: LangGraph re-runs this node on resume, then find_release
looks again."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.deps import Deps
from agent.state import State


def await_release(state: State, runtime: Runtime[Deps]) -> State:
    wait = state.get("release_wait") or {}
    interrupt({"awaiting": "release", "deadline": wait.get("deadline")})
    return {"status": "waiting_for_release"}
