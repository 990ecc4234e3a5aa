"""Repair engines: each proposes candidate patches for a diagnosis; the test node decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.domain import Diagnosis, Incident, ModelUsage, Patch
from agent.ports import CodeIndex, Repo


@dataclass
class RepairJournal:
    """What an engine reports besides its candidates. Engines without a model leave it empty."""

    earlier_tokens: int = 0
    """Tokens (input and output) that earlier rounds of the incident spent: budgets count them."""
    earlier_cost_usd: float = 0.0
    usage: ModelUsage = field(default_factory=ModelUsage)
    """This call's model usage."""
    cost_usd: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    """This round's conversation: every request's new messages and every reply with its usage."""
    refused: dict[str, list[str]] = field(default_factory=dict)
    """Candidate id -> the guardrail reasons it was refused for, inside the engine."""
    stop: str = ""
    """Why the engine stopped (e.g. `finished`, `budget: steps`, `loop: ...`)."""
    budget_exhausted: bool = False


@dataclass(frozen=True)
class RepairContext:
    incident: Incident
    diagnosis: Diagnosis
    repo: Repo
    code_index: CodeIndex
    rev: str
    """The commit the candidates apply to."""
    tried: frozenset[str] = field(default_factory=frozenset)
    """Ids of candidates already tested in earlier rounds."""
    limit: int = 6
    journal: RepairJournal = field(default_factory=RepairJournal)


class RepairEngine(Protocol):
    name: str

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        """Ranked candidates, best first, none of them in `ctx.tried`."""
        ...
