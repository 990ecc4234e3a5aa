"""fix: ask the engines for candidates, drop what the guardrails refuse."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Incident, Patch
from agent.nodes import audit
from agent.policy import check
from agent.repair import RepairContext
from agent.state import State


def fix(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    tried = list(state.get("tried", []))
    round_number = state.get("round", 0) + 1
    settings = deps.settings
    screened = bool(state.get("must_fix")) or bool(diagnosis.reproduction)
    limit = settings.search_candidates if screened else settings.candidates_per_round

    accepted: list[Patch] = []
    refused: dict[str, list[str]] = {}
    for engine in deps.engines:
        if len(accepted) >= limit:
            break
        context = RepairContext(
            incident=incident,
            diagnosis=diagnosis,
            repo=deps.repo,
            code_index=deps.code_index,
            rev=state["base_commit"],
            tried=frozenset(tried) | {p.id for p in accepted},
            limit=limit - len(accepted),
        )
        for patch in engine.candidates(context):
            verdict = check(patch, deps.policy)
            if verdict.allowed:
                accepted.append(patch)
            else:
                refused[patch.id] = verdict.reasons
            tried.append(patch.id)

    engines = ", ".join(engine.name for engine in deps.engines)
    return {
        "round": round_number,
        "tried": tried,
        "candidates": [patch.model_dump(mode="json") for patch in accepted],
        "audit": audit(
            "fix",
            f"round {round_number}, engines {engines}",
            f"{len(accepted)} candidates to test, {len(refused)} refused by guardrails",
            "; ".join(f"{p.id}: {p.title}" for p in accepted) or "no engine had a new candidate",
            candidates=[p.id for p in accepted],
            refused=refused,
        ),
    }
