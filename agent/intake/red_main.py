"""Which tests a red commit broke: the suite at the commit against its parent, in the sandbox.

No CI artifact is read: the commit's whole suite runs in a fresh worktree; a test that fails
there is kept when it passes on the parent commit (a test that already failed, or did not
exist, there is not this commit's doing); each kept test is then run once more at the commit,
in the same worktree, and one that passes on that rerun is flaky: reported, never fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.domain import TestRun
from agent.errors import RunError, SandboxError
from agent.proof.workbench import Workbench


@dataclass(frozen=True)
class RedCommit:
    commit: str
    parent: str | None
    broken: list[str] = field(default_factory=list)
    """Tests that fail at the commit, pass on its parent, and fail again when rerun."""
    flaky: list[str] = field(default_factory=list)
    """Tests that failed at the commit, passed on its parent, and passed when rerun."""
    failed_before: list[str] = field(default_factory=list)
    """Tests that fail at the commit and did not pass on its parent (failing, or absent)."""
    suite_size: int = 0

    def summary(self) -> str:
        parts = [f"{self.suite_size} tests at {self.commit[:10]}"]
        parts.append(f"{len(self.broken)} broken by it")
        if self.flaky:
            parts.append(f"{len(self.flaky)} flaky (passed when rerun)")
        if self.failed_before:
            where = self.parent[:10] if self.parent else "no parent commit"
            parts.append(f"{len(self.failed_before)} not passing before ({where})")
        return ", ".join(parts)


def find_broken_tests(bench: Workbench, commit: str) -> RedCommit:
    """Run the suite at `commit` and its first parent; see the module docstring."""
    parent = bench.repo.resolve(f"{commit}^")
    with bench.worktree(commit, "red") as tree:
        suite = bench.sandbox.run_tests(tree)
        _check(suite, commit)
        failed = sorted(suite.failed())
        if not failed:
            return RedCommit(commit, parent, suite_size=len(suite.outcomes))
        passed_before = _passed_on(bench, parent, failed) if parent else set()
        kept = [test for test in failed if test in passed_before]
        rerun = bench.sandbox.run_tests(tree, kept) if kept else TestRun()
    still = rerun.failed()
    return RedCommit(
        commit,
        parent,
        broken=[test for test in kept if test in still or test not in rerun.outcomes],
        flaky=[test for test in kept if rerun.outcomes.get(test) == "passed"],
        failed_before=[test for test in failed if test not in passed_before],
        suite_size=len(suite.outcomes),
    )


def _passed_on(bench: Workbench, parent: str, failed: list[str]) -> set[str]:
    """Which of `failed` pass on `parent`: their test files that exist there are run whole (a
    node id that names nothing would end pytest before it runs anything)."""
    files = sorted({test.split("::", 1)[0] for test in failed})
    present = [path for path in files if bench.repo.read(parent, path) is not None]
    if not present:
        return set()
    with bench.worktree(parent, "red-parent") as tree:
        run = bench.sandbox.run_tests(tree, present)
    _check(run, parent)
    return run.passed() & set(failed)


def _check(run: TestRun, commit: str) -> None:
    if run.timed_out:
        raise RunError(f"the suite timed out at {commit[:10]}; no failing test is taken from it")
    if not run.outcomes and run.exit_code not in (0, 5):
        raise SandboxError(
            f"pytest ran no test at {commit[:10]} (exit {run.exit_code}): "
            + (run.output.strip().splitlines() or ["no output"])[-1][:200]
        )
