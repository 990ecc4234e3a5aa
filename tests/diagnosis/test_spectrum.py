"""Ochiai over the per-test coverage of a real pytest run in the sandbox, and its ranking."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from agent.diagnosis.ranking import diagnose
from agent.diagnosis.spectrum import Spectrum, line_scores, suspicious_symbols
from agent.domain import Incident, Reproduction
from agent.proof.prove import run_baseline
from agent.proof.workbench import Workbench
from tests.support.incidents import line_of
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST, MODES
from tools.code_index import TreeSitterIndex
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

STATS = '''"""Small statistics."""


def total(values):
    result = 0
    for value in values:
        result += value
    return result


def mean(values):
    if not values:
        return 0.0
    return total(values) / len(values) - 1


def spread(values):
    return max(values) - min(values)
'''

TESTS = """from stats import mean, spread, total


def test_total():
    assert total([1, 2, 3]) == 6


def test_spread():
    assert spread([1, 5, 3]) == 4


def test_mean_of_nothing():
    assert mean([]) == 0.0


def test_mean():
    assert mean([2, 4]) == 3
"""


@pytest.fixture
def stats_repo(tmp_path: Path) -> GitRepo:
    builder = RepoBuilder(tmp_path / "stats")
    builder.commit({"stats.py": STATS, "tests/test_stats.py": TESTS}, "Small statistics")
    return GitRepo(builder.path)


def coverage_run(repo: GitRepo, mode: str):
    sandbox = make_sandbox(mode, sys.executable, FAST, 60, 2048)  # type: ignore[arg-type]
    return sandbox.run_tests(repo.path, coverage=True)


@pytest.mark.parametrize("mode", MODES)
def test_per_test_coverage_and_ochiai_from_a_real_run(stats_repo: GitRepo, mode: str) -> None:
    run = coverage_run(stats_repo, mode)
    failing = "tests/test_stats.py::test_mean"
    assert run.failed() == {failing}
    assert set(run.coverage) == set(run.outcomes)
    bad = line_of(STATS, "/ len(values) - 1")
    assert bad in run.coverage[failing]["stats.py"]
    assert bad not in run.coverage["tests/test_stats.py::test_mean_of_nothing"]["stats.py"]
    assert "stats.py" not in run.coverage.get("tests/test_stats.py::test_spread", {}) or (
        bad not in run.coverage["tests/test_stats.py::test_spread"]["stats.py"]
    )
    assert not any("site-packages" in p for hits in run.coverage.values() for p in hits)

    spectrum = Spectrum(failed=run.failed(), passed=run.passed(), coverage=run.coverage)
    scores = line_scores(spectrum)
    assert scores[("stats.py", bad)] == (1.0, 1, 0)
    guard = line_of(STATS, "if not values")  # run by the failing test and one passing test
    assert scores[("stats.py", guard)][0] == pytest.approx(1 / math.sqrt(2))
    summing = line_of(STATS, "result += value")  # by the failing test and test_total
    assert scores[("stats.py", summing)][0] == pytest.approx(1 / math.sqrt(2))

    ranked = suspicious_symbols(spectrum, TreeSitterIndex(stats_repo), "HEAD", _is_test)
    assert [s.symbol.qualname for s in ranked] == ["mean", "total"]
    assert (ranked[0].line, ranked[0].failed, ranked[0].passed) == (bad, 1, 0)
    assert ranked[0].failing_tests == [failing]
    assert all(not s.symbol.path.startswith("tests/") for s in ranked)


def test_a_run_without_coverage_records_none(stats_repo: GitRepo) -> None:
    run = make_sandbox("subprocess", sys.executable, FAST, 60, 2048).run_tests(stats_repo.path)
    assert run.outcomes and run.coverage == {}
    assert "coverage" not in run.model_dump()


def test_a_wrong_value_incident_ranks_the_code_the_failing_test_ran(stats_repo: GitRepo) -> None:
    run = coverage_run(stats_repo, "subprocess")
    failing = "tests/test_stats.py::test_mean"
    incident = Incident(
        id="inc-2",
        source="test_failure",
        fingerprint="fp-2",
        title="Failing tests: test_mean",
        failing_tests=[failing],
        exceptions=run.failures[failing],
    )
    index = TreeSitterIndex(stats_repo)
    without = diagnose(incident, stats_repo, index, "HEAD")
    assert without.suspects[0].file == "tests/test_stats.py"  # only the test is on the stack

    spectrum = Spectrum(failed={failing}, passed=run.passed(), coverage=run.coverage)
    diagnosis = diagnose(incident, stats_repo, index, "HEAD", spectrum)
    assert [s.symbol for s in diagnosis.suspects] == ["mean", "total", "test_mean"]
    top = diagnosis.suspects[0]
    coverage = [e.detail for e in top.evidence if e.kind == "coverage"]
    assert coverage == [
        f"coverage: line {line_of(STATS, '/ len(values) - 1')} of stats.py ran in 1 failing and "
        f"0 passing test(s): Ochiai 1.00 (failing: {failing})"
    ]
    assert diagnosis.suspects[-1].score < diagnosis.suspects[1].score
    assert "Ochiai 1.00" in diagnosis.explanation


def test_a_spectrum_without_failing_coverage_is_not_used() -> None:
    spectrum = Spectrum(failed={"t::a"}, passed={"t::b"}, coverage={"t::b": {"x.py": [1]}})
    assert not spectrum.usable
    assert line_scores(spectrum) == {}


def _is_test(path: str) -> bool:
    return path.startswith("tests/")


def test_the_baseline_covers_the_reproduction_and_falls_back_when_tracing_is_too_slow(
    tmp_path: Path,
) -> None:
    builder = RepoBuilder(tmp_path / "slow")
    builder.commit(
        {
            "stats.py": STATS,
            "tests/test_stats.py": TESTS,
            "tests/test_traced.py": (
                "import sys\nimport time\n\n\ndef test_slow_when_traced():\n"
                "    if sys.gettrace() is not None:\n        time.sleep(60)\n"
            ),
        },
        "Statistics, and a test that is slow under a tracer",
    )
    repo = GitRepo(builder.path)
    sandbox = make_sandbox("subprocess", sys.executable, FAST, 5, 2048)
    reproduction = Reproduction(
        filename="test_fixloop_repro.py",
        source="from stats import mean\n\n\ndef test_repro():\n    assert mean([2, 4]) == 3\n",
        nodeid="test_fixloop_repro.py::test_repro",
        target_file="stats.py",
        target_function="mean",
    )
    bench = Workbench(repo, sandbox, tmp_path / "work")
    baseline = run_baseline(bench, "HEAD", reproduction, coverage=True)
    assert not baseline.suite.timed_out
    assert baseline.suite.outcomes["tests/test_traced.py::test_slow_when_traced"] == "passed"
    assert baseline.suite.coverage == {}  # the second run, without the tracer
    assert baseline.must_fail is not None
    assert baseline.must_fail.failed() == {reproduction.nodeid}
    assert (
        line_of(STATS, "/ len(values) - 1")
        in (baseline.must_fail.coverage[reproduction.nodeid]["stats.py"])
    )
