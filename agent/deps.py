"""The collaborators a run receives as its LangGraph context. Built only by `agent.wiring`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.guardrails.policy import Policy
from agent.ports import CodeIndex, Controls, ErrorSource, Forge, Notifier, Repo, Sandbox, Tracker
from agent.proof.workbench import Workbench
from agent.repair import RepairEngine
from agent.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    repo: Repo
    code_index: CodeIndex
    sandbox: Sandbox
    tracker: Tracker
    forge: Forge
    errors: ErrorSource
    engines: tuple[RepairEngine, ...]
    policy: Policy
    base_branch: str
    scratch: Path
    """Where this run's worktrees live."""
    controls: Controls
    """The operator controls (kill switch, decisions, spend), read fresh at each decision."""
    notifier: Notifier | None = None
    """Where on-call people hear of the incident (Slack), when configured."""

    def workbench(self) -> Workbench:
        """Where this run proves: its repository, its sandbox, its scratch space."""
        return Workbench(self.repo, self.sandbox, self.scratch)
