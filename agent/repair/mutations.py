"""Mutation engine: one-token edits of the functions a failing test runs, for wrong-value bugs.

No model and no tokens. The targets (`agent.repair.targets`) are the suspects and the functions
the failing test calls; the operators (`agent.repair.operators`) flip comparisons and
arithmetic, move bounds by one, negate conditions, read another local, return a dropped value,
swap arguments, or copy a statement from a sibling branch. Mutants that do not parse, or whose
syntax tree equals the original's or another mutant's, are dropped. The rest are ranked: lines
changed by the most recent commits first (a regression lives in what changed), then targets
nearer the failure, then the operator's prior, then the smaller edit. The test node validates
them; this engine proves nothing.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from agent.domain import FileChange, Patch
from agent.repair import RepairContext
from agent.repair.diffs import make_patch
from agent.repair.operators import CRASH_OPERATORS, OPERATORS, Mutant, Operator
from agent.repair.targets import Target, find_targets

ENGINE = "mutations"
OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Draft:
    mutant: Mutant
    target: Target
    key: tuple[object, ...]


class MutationEngine:
    """Ranked one-token mutants of the code under test; `seconds` bounds the generation."""

    name = ENGINE

    def __init__(self, seconds: float = 20.0, depth: int = 2) -> None:
        self.seconds = seconds
        self.depth = depth

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        operators = _operators(ctx)
        if not operators:
            return []
        deadline = time.monotonic() + self.seconds
        targets = find_targets(ctx, depth=self.depth)
        drafts: list[_Draft] = []
        seen: set[str] = set()
        for target in targets:
            seen.add(ast.dump(target.code.tree))
        for target in targets:
            for operator in operators:
                for mutant in operator(target.code, target.func):
                    if time.monotonic() > deadline:
                        break
                    shape = _shape(mutant.after)
                    if shape is None or shape in seen:
                        continue
                    seen.add(shape)
                    drafts.append(_Draft(mutant, target, _rank(mutant, target, len(drafts))))
        drafts.sort(key=lambda d: d.key)
        patches: list[Patch] = []
        for draft in drafts:
            patch = _patch(draft)
            if patch.id in ctx.tried:
                continue
            patches.append(patch.model_copy(update={"rank": len(patches) + 1}))
            if len(patches) >= ctx.limit:
                break
        return patches


def _operators(ctx: RepairContext) -> tuple[Operator, ...]:
    """All operators for a failing assertion, the crash operators for another exception, and
    none without a test that fails before a fix: a mutant that only has to keep the suite
    green proves nothing."""
    reproduction = ctx.diagnosis.reproduction
    reproduced = reproduction is not None and reproduction.reproduced
    crash = ctx.incident.crash
    if ctx.incident.failing_tests and crash is not None and crash.type.endswith("AssertionError"):
        return OPERATORS
    if ctx.incident.failing_tests or reproduced:
        return CRASH_OPERATORS
    return ()


def _shape(text: str) -> str | None:
    try:
        return ast.dump(ast.parse(text))
    except SyntaxError:
        return None


def _rank(mutant: Mutant, target: Target, order: int) -> tuple[object, ...]:
    changed = target.changed.get(mutant.line)
    newest_first = -(changed or OLDEST).timestamp()
    return (changed is None, newest_first, target.distance, -mutant.prior, order)


def _patch(draft: _Draft) -> Patch:
    mutant, target = draft.mutant, draft.target
    changed = target.changed.get(mutant.line)
    when = (
        f"a line last changed on {changed:%Y-%m-%d}"
        if changed
        else "a line unchanged since the first commit"
    )
    why = (
        "it is a suspect of the diagnosis"
        if target.distance == 0
        else f"the failing code reaches it through {target.distance} call(s)"
    )
    rationale = (
        f"Mutation {mutant.title} at {target.path}:{mutant.line}, {when}; `{target.qualname}` "
        f"is a target because {why}. Kept only if the failing test passes with it and every "
        "test that passed before still passes."
    )
    change = FileChange(path=target.path, before=target.code.text, after=mutant.after)
    return make_patch(ENGINE, mutant.title.replace("`", ""), rationale, [change])
