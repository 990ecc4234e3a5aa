"""Validate ranked candidates in parallel, cheapest test first, and stop once the best is known.

Each candidate is first screened: its change is written into a reusable worktree of the base
commit and only the must-fix tests run (a second or so). A candidate that does not make them
pass is dropped without its full proof. A survivor gets the full proof (`agent.proof.prove`) in
its own fresh worktree: the must-fix tests pass and no test that passed before fails.

Candidates are taken in rank order, `jobs` at a time. The search stops when a candidate is
proven and every better-ranked candidate has been decided (none can beat it), when all are
decided, or when the time budget is spent (the untested rest is reported as such). Without a
must-fix test nothing can be proven; the search then stops at the best candidate that holds
(breaks nothing), which is a suggestion at most.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from agent.domain import Patch, Reproduction, TestReport
from agent.errors import NoVerdict, UntrustedOutcome
from agent.ports import Sandbox
from agent.proof.prove import Baseline, apply_patch, prove, write_reproduction
from agent.proof.workbench import Workbench


@dataclass(frozen=True)
class Search:
    jobs: int = 2
    seconds: float = 240.0
    screen: bool = True
    """Run the must-fix tests alone before the full proof (needs must-fix tests)."""
    proven_wanted: int = 1
    """How many proven candidates end the search (the evidence bar may ask for more than one)."""


class _Screens:
    """One reusable worktree per worker thread; a candidate's files are written, run, restored."""

    def __init__(self, bench: Workbench, rev: str, reproduction: Reproduction | None) -> None:
        self.bench, self.rev, self.reproduction = bench, rev, reproduction
        self.local = threading.local()
        self.trees: list[Path] = []

    def tree(self) -> Path:
        tree: Path | None = getattr(self.local, "tree", None)
        if tree is None:
            tree = self.bench.add_worktree(self.rev, "screen")
            self.trees.append(tree)
            if self.reproduction is not None:
                write_reproduction(tree, self.reproduction)
            self.local.tree = tree
        return tree

    def close(self) -> None:
        for tree in self.trees:
            self.bench.remove_worktree(tree)
        self.trees.clear()


def screen(sandbox: Sandbox, tree: Path, patch: Patch, tests: list[str]) -> str | None:
    """Why the candidate fails its screen, or None when every test in `tests` passes with it."""
    refusal = apply_patch(tree, patch)
    if refusal is not None:
        return refusal
    try:
        _drop_bytecode(tree, patch)
        run = sandbox.run_tests(tree, tests)
    finally:
        restore = patch.model_copy(
            update={
                "files": [
                    change.model_copy(update={"before": change.after, "after": change.before})
                    for change in patch.files
                ]
            }
        )
        apply_patch(tree, restore)
        _drop_bytecode(tree, patch)
    if run.timed_out:
        return "screen: the must-fix tests timed out with the patch"
    failing = [test for test in tests if run.outcomes.get(test) != "passed"]
    if failing:
        outcomes = ", ".join(f"{t} {run.outcomes.get(t, 'not run')}" for t in failing)
        return f"screen: not proven: with the patch {outcomes}"
    return None


def _drop_bytecode(tree: Path, patch: Patch) -> None:
    """Cached bytecode is keyed on mtime and size, which a one-token edit may keep."""
    for change in patch.files:
        path = tree / change.path
        for cached in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
            cached.unlink(missing_ok=True)


def validate(
    bench: Workbench,
    candidates: list[Patch],
    baseline: Baseline,
    must_fix: list[str],
    reproduction: Reproduction | None,
    search: Search,
) -> tuple[list[TestReport], Patch | None]:
    """Reports for the candidates decided (rank order), and the best-ranked proven one."""
    started = time.monotonic()
    tests = [*must_fix, *([reproduction.nodeid] if reproduction else [])]
    tests = list(dict.fromkeys(tests))
    screens = None
    if search.screen and tests:
        screens = _Screens(bench, baseline.rev, reproduction)

    def decide(patch: Patch) -> TestReport:
        if screens is not None:
            try:
                reason = screen(bench.sandbox, screens.tree(), patch, tests)
            except UntrustedOutcome as error:
                return TestReport(
                    candidate_id=patch.id,
                    proven=False,
                    reason=f"screen: not proven: {error}",
                    stage="screen",
                    untrusted=True,
                )
            except NoVerdict as error:
                reason = f"screen: not proven: the tests gave no verdict with this patch: {error}"
            if reason is not None:
                return TestReport(
                    candidate_id=patch.id, proven=False, reason=reason, stage="screen"
                )
        return prove(bench, patch, baseline, must_fix, reproduction)

    try:
        reports = _in_rank_order(candidates, decide, search, started)
    finally:
        if screens is not None:
            screens.close()
    decided = [reports[i] for i in sorted(reports)]
    proven = next((candidates[i] for i in sorted(reports) if reports[i].proven), None)
    untested = len(candidates) - len(reports)
    if untested and not any(report.held for report in decided):
        decided.append(
            TestReport(
                candidate_id="(search budget)",
                proven=False,
                stage="budget",
                reason=f"{untested} candidates not tested: the search budget of "
                f"{search.seconds:g}s was spent",
            )
        )
    return decided, proven


def _in_rank_order(
    candidates: list[Patch],
    decide: Callable[[Patch], TestReport],
    search: Search,
    started: float,
) -> dict[int, TestReport]:
    reports: dict[int, TestReport] = {}
    with ThreadPoolExecutor(max_workers=max(1, search.jobs)) as pool:
        running: dict[Future[TestReport], int] = {}
        following = 0
        while True:
            if _settled(reports, search.proven_wanted):
                break
            while (
                len(running) < max(1, search.jobs)
                and following < len(candidates)
                and time.monotonic() - started < search.seconds
            ):
                running[pool.submit(decide, candidates[following])] = following
                following += 1
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                reports[running.pop(future)] = future.result()
        for future in running:
            future.cancel()
    return reports


def _settled(reports: dict[int, TestReport], wanted: int = 1) -> bool:
    """A candidate holds (is proven, where it can be) and every candidate ranked above it is
    decided; with `wanted` above 1, that many proven candidates with every one above decided."""
    proven = 0
    for index in range(len(reports) + 1):
        report = reports.get(index)
        if report is None:
            return False
        if report.held and not report.proven:
            return True
        proven += report.proven
        if proven >= wanted:
            return True
    return False
