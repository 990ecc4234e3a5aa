"""fix: ask the engines for candidates, drop what the guardrails refuse.

Engines are tiers: the next one is asked only when those before it have no new candidate the
guardrails allow in this round (templates cost nothing, a model costs tokens).

An engine that used a model leaves its figures and transcript in its journal: the transcript
goes to `<home>/transcripts/`, the figures to `model_runs` (whose sum is the run's usage; the
next engine's budget starts from it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent.controls import spend
from agent.deps import Deps
from agent.domain import Diagnosis, Incident, Patch, utcnow
from agent.guardrails.policy import check
from agent.nodes import audit
from agent.repair import RepairContext, RepairEngine, RepairJournal
from agent.state import State, run_usage


def fix(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    tried = list(state.get("tried", []))
    round_number = state.get("round", 0) + 1
    settings = deps.settings
    screened = bool(state.get("must_fix")) or bool(diagnosis.reproduction)
    limit = settings.search_candidates if screened else settings.candidates_per_round

    earlier_runs = state.get("model_runs", [])
    model_runs: list[dict[str, Any]] = []
    accepted: list[Patch] = []
    refused: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for engine in deps.engines:
        if accepted:
            break
        if spend.uses_model(engine) and (cap := spend.over_cap(deps)) is not None:
            skipped[engine.name] = cap
            spend.skipped(deps, incident.id, (state.get("ticket") or {}).get("key"), cap)
            continue
        usage = run_usage([*earlier_runs, *model_runs])
        journal = RepairJournal(
            earlier_tokens=usage["tokens_in"] + usage["tokens_out"],
            earlier_cost_usd=usage["cost_usd"],
        )
        context = RepairContext(
            incident=incident,
            diagnosis=diagnosis,
            repo=deps.repo,
            code_index=deps.code_index,
            rev=state["base_commit"],
            tried=frozenset(tried) | {p.id for p in accepted},
            limit=limit - len(accepted),
            journal=journal,
        )
        for patch in engine.candidates(context):
            verdict = check(patch, deps.policy)
            if verdict.allowed:
                accepted.append(patch)
            else:
                refused[patch.id] = verdict.reasons
            tried.append(patch.id)
        refused.update(journal.refused)
        if journal.transcript:
            transcript = _save_transcript(deps.settings.home, incident.id, round_number, engine)
            transcript.write_text(json.dumps(journal.transcript, indent=1, default=str))
            model_runs.append(_model_run(engine, round_number, journal, transcript))
    spend.record(deps, incident.id, model_runs, utcnow())

    engines = ", ".join(engine.name for engine in deps.engines)
    why = "; ".join(f"{p.id}: {p.title}" for p in accepted) or "no engine had a new candidate"
    if skipped:
        why += "; skipped " + "; ".join(f"engine {name}: {cap}" for name, cap in skipped.items())
    return {
        "round": round_number,
        "tried": tried,
        "candidates": [patch.model_dump(mode="json") for patch in accepted],
        "model_runs": model_runs,
        "audit": audit(
            "fix",
            f"round {round_number}, engines {engines}",
            f"{len(accepted)} candidates to test, {len(refused)} refused by guardrails",
            why,
            skipped=skipped,
            candidates=[p.id for p in accepted],
            refused=refused,
            model_runs=[
                {k: r[k] for k in ("engine", "stop", "steps", "cost_usd")} for r in model_runs
            ],
        ),
    }


def _save_transcript(home: Path, incident_id: str, round_number: int, engine: RepairEngine) -> Path:
    folder = (home / "transcripts").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{incident_id}-round{round_number}-{engine.name}.json"


def _model_run(
    engine: RepairEngine, round_number: int, journal: RepairJournal, transcript: Path
) -> dict[str, Any]:
    usage = journal.usage
    return {
        "engine": engine.name,
        "round": round_number,
        "models": [conversation.get("model") for conversation in journal.transcript],
        "steps": sum(len(conversation.get("steps", [])) for conversation in journal.transcript),
        "stop": journal.stop,
        "budget_exhausted": journal.budget_exhausted,
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.output_tokens,
        "cache_write_tokens": usage.cache_creation_input_tokens,
        "cache_read_tokens": usage.cache_read_input_tokens,
        "cost_usd": round(journal.cost_usd, 6),
        "transcript": str(transcript),
    }
