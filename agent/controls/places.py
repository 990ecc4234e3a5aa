"""Deferred runs go on when a place frees up: the incident with the most events first.

A place frees when a fixloop PR is merged or closed (on the forge, by fixloop or by hand) or the
day rolls over. Each repository's deferred runs are let through one by one, most events first;
the first that is held again means the repository has no place left. The proven change is not
proven again: the run goes on from its checkpoint, at open_pr.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from agent import wiring
from agent.service import runner
from agent.settings import Settings

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def deferred_runs(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    return runner.held_runs(settings, "place")


def resume_deferred(settings: Settings) -> list[dict[str, Any]]:
    """Let deferred runs through while their repository has places: the summary of each run
    that was let through (the last of a repository may be deferred again)."""
    by_repo: dict[str | None, list[tuple[int, str]]] = defaultdict(list)
    events = wiring.error_source(settings)
    now = datetime.now(UTC)
    for incident, values in deferred_runs(settings):
        count = events.events_between(values["incident"]["fingerprint"], EPOCH, now)
        by_repo[values.get("run", {}).get("repo_table")].append((count, incident))
    outcomes = []
    for waiting in by_repo.values():
        for _, incident in sorted(waiting, key=lambda pair: (-pair[0], pair[1])):
            summary = runner.continue_held(settings, incident, "place")
            outcomes.append(summary)
            if summary["status"] == "deferred":
                break
    return outcomes
