"""The daily model spend against `max_model_cost_usd_per_day`, global and per repository.

Every engine but the template engine calls a model; the template engine runs whatever the
spend. A model call's cost is recorded once (keyed by incident, round and engine), so a fix
node run again after a crash does not count it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.controls import day_start, scope_name
from agent.deps import Deps
from agent.repair import RepairEngine


def uses_model(engine: RepairEngine) -> bool:
    return engine.name != "templates"


def over_cap(deps: Deps, now: datetime | None = None) -> str | None:
    """Why the model engines are skipped now (a cap is reached), or None."""
    since = day_start(now)
    own = deps.settings
    total_cap = own.global_settings.max_model_cost_usd_per_day
    total = deps.controls.spend_since(since)
    if total >= total_cap:
        return f"today's model spend ${total:.4f} reached max_model_cost_usd_per_day ${total_cap:g}"
    if own.repo_table is not None:
        spent = deps.controls.spend_since(since, own.repo_table)
        cap = own.max_model_cost_usd_per_day
        if spent >= cap:
            return (
                f"today's model spend on repository {own.repo_table} ${spent:.4f} reached its "
                f"max_model_cost_usd_per_day ${cap:g}"
            )
    return None


def record(deps: Deps, incident_id: str, model_runs: list[dict[str, Any]], at: datetime) -> None:
    scope = scope_name(deps.settings.repo_table)
    for run in model_runs:
        key = f"{incident_id}:{run['round']}:{run['engine']}"
        deps.controls.record_spend(key, scope, incident_id, float(run["cost_usd"]), at)


def skipped(deps: Deps, incident_id: str, ticket_key: str | None, why: str) -> None:
    """Log the skip once a day per incident, and say so on the ticket."""
    day = day_start().date().isoformat()
    scope = scope_name(deps.settings.repo_table)
    key = f"spend_cap:{incident_id}:{day}"
    deps.controls.log(key, "model_skipped", scope, incident_id, {"why": why})
    if ticket_key:
        deps.tracker.comment(
            ticket_key,
            f"spend_cap:{day}",
            f"The model engines were skipped for this incident: {why}. "
            "The template engine still ran; the cap resets at midnight UTC.",
        )
