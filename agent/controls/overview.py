"""What `fixloop status`, `/healthz` and `/metrics` show of the operator controls."""

from __future__ import annotations

from typing import Any

from agent import wiring
from agent.controls import GLOBAL, day_start
from agent.settings import Settings


def controls_view(settings: Settings, held: dict[str, int] | None = None) -> dict[str, Any]:
    """The switch (who paused what, since when, why), today's model spend against each cap,
    and, when `held` is given, how many runs are paused and deferred."""
    if settings.database_url is None and not (settings.home / "records.db").exists():
        return {"paused": [], "spend_today": [], "decisions": {}, "held": held or {}}
    controls = wiring.controls(settings)
    since = day_start()
    spend = [
        {
            "scope": GLOBAL,
            "spent_usd": round(controls.spend_since(since), 6),
            "cap_usd": settings.max_model_cost_usd_per_day,
        }
    ]
    for name in sorted(settings.repos):
        spend.append(
            {
                "scope": name,
                "spent_usd": round(controls.spend_since(since, name), 6),
                "cap_usd": settings.for_repo(name).max_model_cost_usd_per_day,
            }
        )
    view: dict[str, Any] = {
        "paused": [pause.model_dump(mode="json") for pause in controls.pauses()],
        "spend_today": spend,
        "decisions": controls.counts(),
    }
    if held is not None:
        view["held"] = held
    return view


def held_counts(runs: list[dict[str, Any]]) -> dict[str, int]:
    """How many of `runs` (brief summaries) are paused and deferred."""
    return {
        status: sum(1 for run in runs if run["status"] == status)
        for status in ("paused", "deferred")
    }


def render(view: dict[str, Any]) -> str:
    """The controls as `fixloop status` prints them."""
    lines = []
    for pause in view["paused"]:
        what = "fixloop" if pause["scope"] == GLOBAL else f"repository {pause['scope']}"
        reason = pause["reason"] or "no reason given"
        lines.append(f"PAUSED: {what} since {pause['since']} by {pause['by']}: {reason}")
    for row in view["spend_today"]:
        what = "all repositories" if row["scope"] == GLOBAL else f"repository {row['scope']}"
        lines.append(f"model spend today on {what}: ${row['spent_usd']:.4f} of ${row['cap_usd']:g}")
    held = view.get("held")
    if held and any(held.values()):
        lines.append(f"held runs: {held['paused']} paused, {held['deferred']} deferred")
    return "\n".join(lines)


def metrics_lines(view: dict[str, Any]) -> list[str]:
    """Prometheus text lines for `/metrics`."""
    lines = [
        "# HELP fixloop_paused Whether the kill switch of a scope (* or a repository) is on.",
        "# TYPE fixloop_paused gauge",
    ]
    for pause in view["paused"]:
        lines.append(f'fixloop_paused{{scope="{pause["scope"]}"}} 1')
    held = view.get("held") or {}
    lines += [
        "# HELP fixloop_held_runs Runs the operator controls hold, by status.",
        "# TYPE fixloop_held_runs gauge",
    ]
    for status in ("paused", "deferred"):
        lines.append(f'fixloop_held_runs{{status="{status}"}} {held.get(status, 0)}')
    lines += [
        "# HELP fixloop_control_decisions_total Decisions of the operator controls, by kind.",
        "# TYPE fixloop_control_decisions_total counter",
    ]
    for kind, count in sorted(view["decisions"].items()):
        lines.append(f'fixloop_control_decisions_total{{kind="{kind}"}} {count}')
    lines += [
        "# HELP fixloop_model_spend_usd_today Model spend since midnight UTC, and its cap.",
        "# TYPE fixloop_model_spend_usd_today gauge",
    ]
    for row in view["spend_today"]:
        scope = row["scope"]
        lines.append(f'fixloop_model_spend_usd_today{{scope="{scope}"}} {row["spent_usd"]}')
        lines.append(f'fixloop_model_spend_cap_usd{{scope="{scope}"}} {row["cap_usd"]}')
    return lines
