"""A baseline that ran no test proves nothing: no candidate is proven on an empty suite."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent.domain import FileChange, Reproduction
from agent.proof.prove import prove, run_baseline
from agent.proof.workbench import Workbench
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

CALC = "def average(values):\n    return sum(values) / len(values)\n"
FIXED = CALC.replace("    return", "    if not values:\n        return 0.0\n    return")
REPRO = Reproduction(
    filename="test_fixloop_repro_inc_2.py",
    source="from app.calc import average\n\n\ndef test_reproduces_inc_2():\n    average([])\n",
    nodeid="test_fixloop_repro_inc_2.py::test_reproduces_inc_2",
    target_file="app/calc.py",
    target_function="average",
)
SKIPPED = textwrap.dedent(
    """\
    import pytest


    @pytest.mark.skip(reason="not here")
    def test_later():
        pass
    """
)
PASSING = "from app.calc import average\n\n\ndef test_average():\n    assert average([2]) == 2\n"


@pytest.mark.parametrize(
    ("tests", "proven"),
    [
        ({}, False),
        ({"tests/test_later.py": SKIPPED}, False),
        ({"tests/test_broken.py": "import no_such_module_here\n"}, False),
        ({"tests/test_calc.py": PASSING}, True),
    ],
    ids=["no-tests", "all-skipped", "collection-error", "one-passing-test"],
)
def test_a_suite_that_ran_no_test_is_no_proof(
    tmp_path: Path, tests: dict[str, str], proven: bool
) -> None:
    builder = RepoBuilder(tmp_path / "project")
    rev = builder.commit({"app/__init__.py": "", "app/calc.py": CALC, **tests}, "calc")
    sandbox = make_sandbox("auto", sys.executable, FAST, 30, 2048, test_paths=["tests"])
    bench = Workbench(GitRepo(builder.path), sandbox, tmp_path / "work")
    patch = make_patch(
        "test", "guard", "test", [FileChange(path="app/calc.py", before=CALC, after=FIXED)]
    )

    baseline = run_baseline(bench, rev, REPRO)
    report = prove(bench, patch, baseline, [REPRO.nodeid], REPRO)

    assert baseline.must_fail is not None
    assert baseline.must_fail.outcomes == {REPRO.nodeid: "failed"}
    assert report.reproduction_after == "passed"
    assert report.proven is proven, report.reason
    assert ("the suite ran no test on the base commit" in report.reason) is not proven
