"""The proof of a candidate fix, run in fresh git worktrees inside the sandbox.

A candidate is proven when every must-fix test (each reported test that fails on the base
commit, and the reproduction when it failed like the incident) fails on the base commit and
passes with the patch, and no test that passed on the base commit fails with it (a rebuilt test
that passed on the base commit is held to that too). A test that disagrees with the baseline
is run once more: if it passes then, it is flaky, not a regression.

Without a must-fix test nothing is proven: "no test that passed before fails" is necessary,
never sufficient. Such a candidate can still hold (break nothing), and is then reported as held,
a suggestion at most.
"""

from __future__ import annotations

import difflib
import time
from pathlib import Path, PurePosixPath

from pydantic import BaseModel

from agent.domain import Patch, Reproduction, TestOutcome, TestReport, TestRun
from agent.errors import NoVerdict, UntrustedOutcome
from agent.guardrails.collection import collection_refusal
from agent.ports import Sandbox
from agent.proof.workbench import Workbench

FAILING = ("failed", "error", "timeout")
NO_FAILING_TEST = (
    "no test failed before the change (no reproduction failed like the incident, no reported "
    "test fails), and the suite alone is no proof"
)


class Baseline(BaseModel):
    """How the unpatched base commit fares: the whole suite, and the must-fail tests."""

    rev: str
    suite: TestRun
    must_fail: TestRun | None = None
    """The run of the reproduction test on the base commit, when there is one."""

    def outcome(self, nodeid: str) -> str | None:
        if nodeid in self.suite.outcomes:
            return self.suite.outcomes[nodeid]
        return self.must_fail.outcomes.get(nodeid) if self.must_fail else None


def run_baseline(
    bench: Workbench, rev: str, reproduction: Reproduction | None, coverage: bool = False
) -> Baseline:
    """Run the suite, then the reproduction, in a fresh worktree of `rev`.

    With `coverage`, both runs record the lines each test ran, for fault localization; when
    tracing pushes the suite past the sandbox's time limit, it runs again without it, and the
    tests it pushed past the per-test limit run again without it (their outcome is taken from
    that run, the coverage kept).
    """
    sandbox = bench.sandbox
    with bench.worktree(rev, "baseline") as tree:
        suite = sandbox.run_tests(tree, coverage=coverage)
        if coverage and suite.timed_out:
            suite = sandbox.run_tests(tree)
        elif coverage:
            suite = _untraced_timeouts(sandbox, tree, suite)
        must_fail = None
        if reproduction is not None:
            # Written after the suite ran, so that it is collected only when named.
            _write(tree, reproduction.filename, reproduction.source)
            must_fail = sandbox.run_tests(tree, [reproduction.nodeid], coverage=coverage)
    return Baseline(rev=rev, suite=suite, must_fail=must_fail)


def _untraced_timeouts(sandbox: Sandbox, tree: Path, suite: TestRun) -> TestRun:
    """`suite` with the tests cut at the per-test timeout under tracing run again untraced."""
    cut = sorted(nodeid for nodeid, outcome in suite.outcomes.items() if outcome == "timeout")
    if not cut:
        return suite
    again = sandbox.run_tests(tree, cut)
    if again.timed_out:
        return suite
    failures = {n: f for n, f in suite.failures.items() if n not in cut} | again.failures
    return suite.model_copy(
        update={"outcomes": suite.outcomes | again.outcomes, "failures": failures}
    )


def run_reproduction(
    bench: Workbench, rev: str, reproduction: Reproduction, coverage: bool = False
) -> TestRun:
    """Run one reproduction test alone in a fresh worktree of `rev`."""
    with bench.worktree(rev, "reproduction") as tree:
        _write(tree, reproduction.filename, reproduction.source)
        return bench.sandbox.run_tests(tree, [reproduction.nodeid], coverage=coverage)


def run_reproductions(
    bench: Workbench, rev: str, reproductions: list[Reproduction], coverage: bool = False
) -> TestRun:
    """Run several reproduction tests in one pytest run in a fresh worktree of `rev` (each is
    its own file, so one cannot import or break another)."""
    with bench.worktree(rev, "reproductions") as tree:
        for reproduction in reproductions:
            _write(tree, reproduction.filename, reproduction.source)
        nodeids = [reproduction.nodeid for reproduction in reproductions]
        return bench.sandbox.run_tests(tree, nodeids, coverage=coverage)


def prove(
    bench: Workbench,
    patch: Patch,
    baseline: Baseline,
    must_fix: list[str],
    reproduction: Reproduction | None,
) -> TestReport:
    """Apply `patch` to the baseline's commit in its own worktree and decide whether it is proven.

    Test failures, timeouts, patches that cannot be applied and an outcome the tests forged
    (`UntrustedOutcome`, marked `untrusted`) and a run with no verdict (`NoVerdict`: killed,
    out of memory) give a report that is not proven; any other `SandboxError` (pytest could
    not start at all) propagates. Worktrees are removed.
    """
    started = time.monotonic()
    must_fix = list(dict.fromkeys(must_fix))
    tracked = reproduction.nodeid if reproduction else (must_fix[0] if must_fix else None)
    report = TestReport(
        candidate_id=patch.id,
        proven=False,
        reason="",
        reproduction_before=baseline.outcome(tracked) if tracked else None,
        baseline_passed=len(baseline.suite.passed()),
        sandbox=bench.sandbox.name,
    )
    with bench.worktree(baseline.rev, f"candidate-{patch.id}") as tree:
        try:
            verdict = _prove_in(
                tree, bench.sandbox, patch, must_fix, baseline, reproduction, tracked
            )
        except UntrustedOutcome as error:
            verdict = {"reason": f"not proven: {error}", "untrusted": True}
        except NoVerdict as error:
            verdict = {"reason": f"not proven: the tests gave no verdict with this patch: {error}"}
    return report.model_copy(update={**verdict, "seconds": round(time.monotonic() - started, 3)})


def _prove_in(
    tree: Path,
    sandbox: Sandbox,
    patch: Patch,
    must_fix: list[str],
    baseline: Baseline,
    reproduction: Reproduction | None,
    tracked: str | None,
) -> dict[str, object]:
    if baseline.suite.timed_out:
        return {"reason": "the baseline run timed out: nothing to compare against"}
    refusal = apply_patch(tree, patch)
    if refusal is not None:
        return {"reason": refusal}
    suite = sandbox.run_tests(tree)
    if suite.timed_out:
        return {"reason": f"the test run timed out ({sandbox.name} sandbox)"}
    if (refusal := collection_refusal(baseline.suite, suite)) is not None:
        return {"reason": refusal}
    if judges := _judges_edited(patch, must_fix):
        return {
            "reason": f"not proven: the patch changes lines of {', '.join(judges)}, which holds "
            "a test it must turn green (a change to the judge proves nothing)"
        }
    after: dict[str, str] = dict(suite.outcomes)
    if reproduction is not None:
        _write(tree, reproduction.filename, reproduction.source)
    named = [*must_fix, *([reproduction.nodeid] if reproduction else [])]
    missing = sorted({nodeid for nodeid in named if nodeid not in after})
    if missing:
        extra = sandbox.run_tests(tree, missing)
        if extra.timed_out:
            return {"reason": "the run of the must-fix tests timed out"}
        after.update(extra.outcomes)

    held_to = set(baseline.suite.passed())
    if reproduction is not None and baseline.outcome(reproduction.nodeid) == "passed":
        held_to.add(reproduction.nodeid)
    disagreements = sorted(n for n in held_to if after.get(n) != "passed")
    flaky: list[str] = []
    regressions = disagreements
    if disagreements:
        rerun = sandbox.run_tests(tree, disagreements)
        if rerun.timed_out:
            return {"reason": "the rerun of the disagreeing tests timed out"}
        flaky = [n for n in disagreements if rerun.outcomes.get(n) == "passed"]
        regressions = [n for n in disagreements if n not in flaky]

    problems = _must_fix_problems(must_fix, baseline, after)
    if regressions:
        problems.append(f"regressions (passed before, fail after): {', '.join(regressions)}")
    if not must_fix and not baseline.suite.passed():
        problems.append("no test passed on the base commit, so the suite proves nothing")
    if not ran_a_test(baseline.suite):
        problems.append("the suite ran no test on the base commit, so it rules out no regression")
    return {
        "proven": not problems and bool(must_fix),
        "held": not problems,
        "reason": _reason(must_fix, problems, baseline, flaky),
        "must_fix": {
            nodeid: TestOutcome(before=baseline.outcome(nodeid), after=after.get(nodeid))
            for nodeid in must_fix
        },
        "reproduction_after": after.get(tracked) if tracked else None,
        "passed_after": len(suite.passed()),
        "regressions": regressions,
        "flaky": flaky,
    }


def _judges_edited(patch: Patch, must_fix: list[str]) -> list[str]:
    """The files of `patch` that hold a must-fix test and whose existing lines it changes
    (adding tests beside them is not a change to the judge)."""
    judges = {PurePosixPath(nodeid.split("::", 1)[0]) for nodeid in must_fix}
    return sorted(
        c.path
        for c in patch.files
        if PurePosixPath(c.path) in judges and not _only_adds(c.before, c.after)
    )


def _only_adds(before: str, after: str) -> bool:
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def ran_a_test(run: TestRun) -> bool:
    """Whether `run` ran at least one test: a collection error or a skip is no test run."""
    return any("::" in nodeid and outcome != "skipped" for nodeid, outcome in run.outcomes.items())


def apply_patch(tree: Path, patch: Patch) -> str | None:
    """Write every file of `patch` into `tree`; the reason it cannot be applied, or None."""
    root = tree.resolve()
    targets: list[tuple[Path, str]] = []
    for change in patch.files:
        target = _inside(root, change.path)
        if target is None:
            return f"patch rejected: {change.path!r} is outside the worktree"
        current = target.read_bytes().decode("utf-8", "replace") if target.is_file() else ""
        if current != change.before:
            return f"patch does not apply: {change.path} differs from the patch's 'before'"
        targets.append((target, change.after))
    for target, text in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return None


def _must_fix_problems(must_fix: list[str], baseline: Baseline, after: dict[str, str]) -> list[str]:
    problems = []
    for nodeid in must_fix:
        before = baseline.outcome(nodeid)
        if before not in FAILING:
            problems.append(f"{nodeid} did not fail on the base commit ({before or 'not run'})")
        if after.get(nodeid) != "passed":
            problems.append(
                f"{nodeid} does not pass with the patch ({after.get(nodeid) or 'not run'})"
            )
    return problems


def _reason(must_fix: list[str], problems: list[str], baseline: Baseline, flaky: list[str]) -> str:
    passed_before = len(baseline.suite.passed())
    held = f"no regressions among the {passed_before} tests that passed before"
    if not must_fix:
        text = f"{NO_FAILING_TEST}: not proven; "
        text += "; ".join(problems) if problems else f"the candidate holds: {held}"
    elif problems:
        text = "not proven: " + "; ".join(problems)
    else:
        text = f"{', '.join(must_fix)} failed before the patch and pass with it; {held}"
    if flaky:
        text += f"; flaky (failed, then passed on rerun): {', '.join(flaky)}"
    return text


def _inside(root: Path, relative: str) -> Path | None:
    """`relative` under `root`, or None when it is absolute, climbs out, or enters `.git`."""
    path = PurePosixPath(relative)
    if not relative or path.is_absolute() or ".." in path.parts or path.parts[0] == ".git":
        return None
    target = (root / path).resolve()
    return target if target.is_relative_to(root) and target != root else None


def write_reproduction(tree: Path, reproduction: Reproduction) -> None:
    _write(tree, reproduction.filename, reproduction.source)


def _write(tree: Path, name: str, text: str) -> None:
    """Write a reproduction test at `name` in the worktree: at its root, or next to the test it
    was derived from (an existing folder)."""
    target = _inside(tree.resolve(), name)
    if target is None or not target.parent.is_dir() or not name.endswith(".py"):
        raise ValueError(f"reproduction file name {name!r} is not a test file in the worktree")
    target.write_text(text, encoding="utf-8")
