"""Repair engines: each proposes candidate patches for a diagnosis; the test node decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from agent.domain import Diagnosis, Incident, Patch
from agent.ports import CodeIndex, Repo


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


class RepairEngine(Protocol):
    name: str

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        """Ranked candidates, best first, none of them in `ctx.tried`."""
        ...
