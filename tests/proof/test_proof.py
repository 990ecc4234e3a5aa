"""The proof of a candidate, on a real git repository with a bug, in the real sandbox."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent import domain
from agent.domain import FileChange, Patch, Reproduction
from agent.domain import TestOutcome as Outcome
from agent.ports import Sandbox
from agent.proof.prove import NO_FAILING_TEST, Baseline, prove, run_baseline, write_reproduction
from agent.proof.workbench import Workbench
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder, git
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

CALC = textwrap.dedent(
    """\
    def average(values):
        return sum(values) / len(values)


    def total(values):
        return sum(values)
    """
)

TESTS = textwrap.dedent(
    """\
    from app.calc import average, total


    def test_average():
        assert average([1, 2, 3]) == 2


    def test_total():
        assert total([1, 2, 3]) == 6
    """
)
FLAKY = textwrap.dedent(
    """\
    from pathlib import Path

    RUNS = Path(__file__).with_name("flaky_runs.txt")


    def test_sometimes():
        runs = int(RUNS.read_text()) if RUNS.exists() else 0
        RUNS.write_text(str(runs + 1))
        assert runs != 1, "fails on its second run in a worktree"
    """
)
FIXED = CALC.replace(
    "    return sum(values) / len(values)",
    "    if not values:\n        return 0.0\n    return sum(values) / len(values)",
)
REPRO = Reproduction(
    filename="test_fixloop_repro_inc_1.py",
    source=(
        "from app.calc import average\n\n\ndef test_reproduces_inc_1():\n    average(values=[])\n"
    ),
    nodeid="test_fixloop_repro_inc_1.py::test_reproduces_inc_1",
    target_file="app/calc.py",
    target_function="average",
)
SUITE = {
    "tests/test_calc.py::test_average",
    "tests/test_calc.py::test_total",
    "tests/test_flaky.py::test_sometimes",
}


Project = tuple[GitRepo, str]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    builder = RepoBuilder(tmp_path_factory.mktemp("project"))
    rev = builder.commit(
        {"app/__init__.py": "", "app/calc.py": CALC, "tests/test_calc.py": TESTS,
         "tests/test_flaky.py": FLAKY},
        "calc with a bug: average([]) divides by zero",
    )  # fmt: skip
    return GitRepo(builder.path), rev


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 20, 2048)


@pytest.fixture(scope="module")
def baseline(
    project: Project, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Baseline:
    repo, rev = project
    return run_baseline(Workbench(repo, sandbox, tmp_path_factory.mktemp("work")), rev, REPRO)


def candidate(changes: dict[str, tuple[str, str]]) -> Patch:
    files = [FileChange(path=path, before=b, after=a) for path, (b, a) in changes.items()]
    return make_patch("test", "candidate", "written by the test", files)


def run_prove(
    project: Project,
    sandbox: Sandbox,
    baseline: Baseline,
    patch: Patch,
    tmp_path: Path,
    must_fix: list[str] | None = None,
    repro: Reproduction | None = REPRO,
) -> domain.TestReport:
    repo, _ = project
    must_fix = [REPRO.nodeid] if must_fix is None else must_fix
    report = prove(Workbench(repo, sandbox, tmp_path / "work"), patch, baseline, must_fix, repro)
    assert git(repo.path, "worktree", "list").count("\n") == 0, (
        "a candidate worktree was left behind"
    )
    assert list((tmp_path / "work").iterdir()) == []
    return report


def test_baseline_runs_the_suite_and_the_reproduction(baseline: Baseline, project: Project) -> None:
    assert baseline.suite.outcomes == dict.fromkeys(SUITE, "passed")
    assert REPRO.nodeid not in baseline.suite.outcomes  # collected only when named
    assert baseline.must_fail is not None
    assert baseline.must_fail.outcomes == {REPRO.nodeid: "failed"}
    assert baseline.must_fail.failures[REPRO.nodeid][-1].type == "ZeroDivisionError"
    assert baseline.outcome(REPRO.nodeid) == "failed"
    assert baseline.rev == project[1]


def test_a_correct_patch_is_proven(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    patch = candidate({"app/calc.py": (CALC, FIXED)})
    report = run_prove(project, sandbox, baseline, patch, tmp_path)
    assert report.proven, report.reason
    assert report.candidate_id == patch.id
    assert (report.reproduction_before, report.reproduction_after) == ("failed", "passed")
    assert (report.baseline_passed, report.passed_after) == (3, 3)
    assert report.regressions == [] and report.flaky == []
    assert report.sandbox == sandbox.name
    assert report.seconds > 0
    assert report.reason.startswith(f"{REPRO.nodeid} failed before the patch and pass with it")
    assert report.must_fix == {REPRO.nodeid: Outcome(before="failed", after="passed")}


def test_a_rebuilt_test_that_passed_before_must_still_pass(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    repo, rev = project
    passing = REPRO.model_copy(
        update={
            "source": "from app.calc import average\n\n\n"
            "def test_reproduces_inc_1():\n    assert average([4]) == 4\n"
        }
    )
    base = run_baseline(Workbench(repo, sandbox, tmp_path / "base"), rev, passing)
    assert base.outcome(passing.nodeid) == "passed"
    single = FIXED.replace(
        "    if not values:", "    if len(values) == 1:\n        return 0\n    if not values:"
    )
    report = run_prove(
        project, sandbox, base, candidate({"app/calc.py": (CALC, single)}), tmp_path, [], passing
    )
    assert not report.proven
    assert report.regressions == [passing.nodeid]


def test_a_patch_that_breaks_another_test_is_not_proven(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
):
    broken = FIXED.replace("return sum(values)\n", "return sum(values) + 1\n")
    report = run_prove(
        project, sandbox, baseline, candidate({"app/calc.py": (CALC, broken)}), tmp_path
    )
    assert not report.proven
    assert report.regressions == ["tests/test_calc.py::test_total"]
    assert report.reproduction_after == "passed"
    assert (
        "regressions (passed before, fail after): tests/test_calc.py::test_total" in report.reason
    )


def test_a_patch_that_does_nothing_is_not_proven(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    idle = CALC.replace("def total", "# totals\ndef total")
    report = run_prove(
        project, sandbox, baseline, candidate({"app/calc.py": (CALC, idle)}), tmp_path
    )
    assert not report.proven
    assert (report.reproduction_before, report.reproduction_after) == ("failed", "failed")
    assert report.reason == f"not proven: {REPRO.nodeid} does not pass with the patch (failed)"
    assert report.regressions == []


def test_a_flaky_test_is_flaky_not_a_regression(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    # The counter makes test_sometimes fail on its first run in this worktree and pass on rerun.
    patch = candidate({"app/calc.py": (CALC, FIXED), "tests/flaky_runs.txt": ("", "1")})
    report = run_prove(project, sandbox, baseline, patch, tmp_path)
    assert report.proven, report.reason
    assert report.flaky == ["tests/test_flaky.py::test_sometimes"]
    assert report.regressions == []
    assert report.passed_after == 2
    assert (
        "flaky (failed, then passed on rerun): tests/test_flaky.py::test_sometimes" in report.reason
    )


def test_without_a_failing_before_test_nothing_is_proven(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    repo, rev = project
    bare = run_baseline(Workbench(repo, sandbox, tmp_path / "base"), rev, None)
    assert bare.must_fail is None
    good = run_prove(
        project, sandbox, bare, candidate({"app/calc.py": (CALC, FIXED)}), tmp_path, [], None
    )
    # The suite still passing is necessary, never sufficient: the candidate only holds.
    assert (good.proven, good.held) == (False, True)
    assert good.reason == (
        f"{NO_FAILING_TEST}: not proven; "
        "the candidate holds: no regressions among the 3 tests that passed before"
    )
    assert (good.reproduction_before, good.reproduction_after) == (None, None)
    broken = FIXED.replace("return sum(values)\n", "return sum(values) + 1\n")
    bad = run_prove(
        project, sandbox, bare, candidate({"app/calc.py": (CALC, broken)}), tmp_path, [], None
    )
    assert (bad.proven, bad.held) == (False, False)
    assert bad.reason.startswith(f"{NO_FAILING_TEST}: not proven; regressions")
    assert bad.regressions == ["tests/test_calc.py::test_total"]


def test_a_must_fix_test_that_passed_before_proves_nothing(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
):
    patch = candidate({"app/calc.py": (CALC, FIXED)})
    nodeid = "tests/test_calc.py::test_total"
    report = run_prove(project, sandbox, baseline, patch, tmp_path, [REPRO.nodeid, nodeid])
    assert not report.proven
    assert f"{nodeid} did not fail on the base commit (passed)" in report.reason


def test_a_patch_that_edits_a_test_it_must_turn_green_is_not_proven(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    judged = "tests/test_calc.py::test_average"
    edited = TESTS.replace("== 2", "== 2.0")
    patch = candidate({"app/calc.py": (CALC, FIXED), "tests/test_calc.py": (TESTS, edited)})
    report = run_prove(project, sandbox, baseline, patch, tmp_path, [REPRO.nodeid, judged])
    assert (report.proven, report.held) == (False, False)
    assert report.reason.startswith("not proven: the patch changes lines of tests/test_calc.py")
    alone = run_prove(project, sandbox, baseline, patch, tmp_path)
    assert not alone.reason.startswith("not proven: the patch changes"), "only a judge's file"


def test_a_patch_whose_run_gives_no_verdict_is_not_proven(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    # The interpreter dies without a report (as when a candidate runs it out of memory).
    dying = "import os\nos._exit(3)\n" + FIXED
    report = run_prove(
        project, sandbox, baseline, candidate({"app/calc.py": (CALC, dying)}), tmp_path
    )
    assert (report.proven, report.held, report.untrusted) == (False, False, False)
    assert report.reason.startswith("not proven: the tests gave no verdict with this patch")


def test_paths_outside_the_worktree_and_stale_patches_are_rejected(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    for path in ("../escape.py", "/tmp/escape.py", ".git/config", "app/../../escape.py"):
        report = run_prove(project, sandbox, baseline, candidate({path: ("", "x = 1\n")}), tmp_path)
        assert not report.proven
        assert report.reason == f"patch rejected: {path!r} is outside the worktree"
    assert not (tmp_path / "escape.py").exists()
    stale = candidate({"app/calc.py": ("something else\n", FIXED)})
    report = run_prove(project, sandbox, baseline, stale, tmp_path)
    assert report.reason.startswith("patch does not apply: app/calc.py")


def test_a_run_that_times_out_is_not_proven(
    project: Project, baseline: Baseline, tmp_path: Path
) -> None:
    quick = make_sandbox("auto", sys.executable, FAST, 3, 2048)
    hangs = CALC.replace("    return sum(values) / len(values)", "    while True:\n        pass")
    report = run_prove(
        project, quick, baseline, candidate({"app/calc.py": (CALC, hangs)}), tmp_path
    )
    assert not report.proven
    assert report.reason == f"the test run timed out ({quick.name} sandbox)"


def test_a_reproduction_is_written_inside_the_worktree_only(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    source = "def test_x():\n    pass\n"
    for name in ("test_root.py", "tests/test_derived.py"):
        write_reproduction(tmp_path, _named(name, source))
        assert (tmp_path / name).read_text() == source
    for name in ("../escape.py", ".git/hooks/test_x.py", "missing/test_x.py", "tests/notes.txt"):
        with pytest.raises(ValueError, match="is not a test file in the worktree"):
            write_reproduction(tmp_path, _named(name, source))
    assert not (tmp_path.parent / "escape.py").exists()


def _named(filename: str, source: str) -> Reproduction:
    return Reproduction(
        filename=filename,
        source=source,
        nodeid=f"{filename}::test_x",
        target_file="app/calc.py",
        target_function="average",
    )
