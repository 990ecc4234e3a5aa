"""The baseline under coverage: a test only tracing makes slow past the per-test timeout is run
again untraced, so it counts as the pass it is; a test that hangs either way stays `timeout`."""

from __future__ import annotations

import sys
from pathlib import Path

from agent.proof.prove import run_baseline
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

TESTS = """\
import sys
import time

from app.calc import double


def test_slow_only_when_traced():
    if sys.gettrace() is not None:
        time.sleep(600)
    assert double(2) == 4


def test_hangs_anyway():
    while double(1):
        pass


def test_quick():
    assert double(3) == 6
"""


def test_only_tests_cut_under_tracing_run_again_untraced(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    rev = builder.commit(
        {"app/__init__.py": "", "app/calc.py": "def double(x):\n    return 2 * x\n",
         "tests/test_calc.py": TESTS},
        "calc",
    )  # fmt: skip
    sandbox = make_sandbox("auto", sys.executable, FAST, 120, 2048, per_test_timeout=2)
    bench = Workbench(GitRepo(builder.path), sandbox, tmp_path / "work")

    baseline = run_baseline(bench, rev, None, coverage=True)

    prefix = "tests/test_calc.py::"
    assert baseline.suite.outcomes == {
        prefix + "test_slow_only_when_traced": "passed",
        prefix + "test_hangs_anyway": "timeout",
        prefix + "test_quick": "passed",
    }
    assert baseline.suite.failures[prefix + "test_hangs_anyway"][0].type == "TestTimeout"
    assert "app/calc.py" in baseline.suite.coverage[prefix + "test_quick"], "coverage is kept"
