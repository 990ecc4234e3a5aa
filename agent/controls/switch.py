"""The kill switch: pause and unpause all of fixloop or one repository.

A pause only sets the switch; runs see it at their next node boundary. Unpause clears it and
resumes each run held by a pause from its checkpoint, once (a run still held by another pause
waits on).
"""

from __future__ import annotations

from typing import Any

from agent import wiring
from agent.controls import GLOBAL
from agent.domain import Pause
from agent.errors import ConfigError
from agent.service import runner
from agent.settings import Settings


def scope_of(settings: Settings, repo: str | None) -> str:
    """The scope `--repo` names: a repository table, or all of fixloop."""
    if repo is None:
        return GLOBAL
    if repo not in settings.repos:
        known = ", ".join(sorted(settings.repos)) or "none"
        raise ConfigError(f"no repository table {repo!r} to pause (tables: {known})")
    return repo


def pause(settings: Settings, repo: str | None, by: str, reason: str) -> Pause:
    scope = scope_of(settings, repo)
    controls = wiring.controls(settings)
    paused = controls.pause(scope, by, reason)
    detail = {"by": paused.by, "reason": paused.reason}
    controls.log(f"pause:{scope}:{paused.since.timestamp()}", "pause", scope, None, detail)
    return paused


def unpause(settings: Settings, repo: str | None, by: str) -> Pause | None:
    """Clear the switch; the pause it cleared, or None when it was not set."""
    scope = scope_of(settings, repo)
    controls = wiring.controls(settings)
    cleared = controls.unpause(scope)
    if cleared is not None:
        key = f"unpause:{scope}:{cleared.since.timestamp()}"
        controls.log(key, "unpause", scope, None, {"by": by, "paused_by": cleared.by})
    return cleared


def paused_runs(settings: Settings) -> list[str]:
    return [incident for incident, _ in runner.held_runs(settings, "unpause")]


def resume_paused(settings: Settings) -> list[dict[str, Any]]:
    """Let every run held by a pause look again, in this process: the summary of each."""
    return [
        runner.continue_held(settings, incident, "unpause") for incident in paused_runs(settings)
    ]
