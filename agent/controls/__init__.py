"""Operator controls: the kill switch, PR limits, the daily spend cap, the automation level.

They live in the state store (`agent.ports.Controls`) and in the settings of each repository
table, and are read at each decision, never once for a whole run. A run they hold waits as a
LangGraph interrupt (`paused`, `deferred`) and loses nothing; every decision is logged.

    gates     the node wrappers that hold a run before it writes outside fixloop
    limits    max_open_prs and max_prs_per_day, counted on the forge
    spend     the daily model spend against max_model_cost_usd_per_day
    switch    pause and unpause, for the CLI and the server
    places    resuming deferred runs when a place frees, most events first
    overview  what status, /healthz and /metrics show
"""

from __future__ import annotations

from datetime import datetime

from agent.domain import utcnow

GLOBAL = "*"
"""The scope of the switch that pauses all of fixloop."""


def scope_name(repo_table: str | None) -> str:
    """The scope of a run's repository: its table, or GLOBAL when it has none."""
    return repo_table or GLOBAL


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of the day `now` (default: now) is in: limits and caps count from it."""
    moment = now or utcnow()
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
