"""max_open_prs and max_prs_per_day: the forge is the truth, not fixloop's memory."""

from __future__ import annotations

from typing import Any

from agent.controls import day_start
from agent.deps import Deps


def reached(deps: Deps) -> dict[str, Any] | None:
    """The limit a new PR on this repository would pass, as `limit`, `value` and `count`;
    None when a PR may open now."""
    settings = deps.settings
    open_now, today = deps.forge.bot_pr_counts(day_start())
    if open_now >= settings.max_open_prs:
        return {"limit": "max_open_prs", "value": settings.max_open_prs, "count": open_now}
    if today >= settings.max_prs_per_day:
        return {"limit": "max_prs_per_day", "value": settings.max_prs_per_day, "count": today}
    return None


def describe(limit: dict[str, Any]) -> str:
    if limit["limit"] == "max_open_prs":
        return f"{limit['count']} fixloop PRs are open, max_open_prs is {limit['value']}"
    return f"fixloop opened {limit['count']} PRs today (UTC), max_prs_per_day is {limit['value']}"
