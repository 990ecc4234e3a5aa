"""The proof compares what the candidate's run collects and skips with the baseline's run:
weakenings no static check sees (a computed marker name, a shorter parametrization) are refused."""

from __future__ import annotations

import sys
import textwrap

import pytest

from agent import domain
from agent.domain import FileChange, Patch
from agent.guardrails.collection import collection_refusal
from agent.guardrails.policy import Policy, check
from agent.ports import Sandbox
from agent.proof.prove import Baseline, prove, run_baseline
from agent.proof.workbench import Workbench
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

CALC = "def average(values):\n    return sum(values) / len(values)\n"
FIXED = CALC.replace("    return sum", "    if not values:\n        return 0.0\n    return sum")
TESTS = textwrap.dedent(
    """\
    import pytest

    from app.calc import average


    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_single(n):
        assert average([n]) == n


    def test_empty():
        assert average([]) == 0.0


    def test_halves():
        assert average([1, 2]) == 1  # wrong on the base commit and with the fix
    """
)
MUST_FIX = ["tests/test_calc.py::test_empty"]


def run(outcomes: dict[str, str]) -> domain.TestRun:
    return domain.TestRun.model_validate({"outcomes": outcomes})


def test_same_collection_passes() -> None:
    before = run({"t.py::a": "passed", "t.py::b": "failed", "t.py::c": "skipped"})
    after = run(
        {"t.py::a": "passed", "t.py::b": "passed", "t.py::c": "skipped", "t.py::d": "passed"}
    )
    assert collection_refusal(before, after) is None


def test_a_lost_test_is_refused() -> None:
    before = run({"t.py::a": "passed", "t.py::b": "failed"})
    reason = collection_refusal(before, run({"t.py::a": "passed"}))
    assert reason == "refused: the candidate's run no longer collects 1 tests: t.py::b"


def test_a_new_skip_is_refused_even_of_a_new_test() -> None:
    before = run({"t.py::a": "failed"})
    reason = collection_refusal(before, run({"t.py::a": "skipped", "t.py::n": "skipped"}))
    assert reason == "refused: the candidate's run skips 2 more tests: t.py::a, t.py::n"


def test_a_module_that_no_longer_fails_to_collect_may_disappear() -> None:
    before = run({"t.py": "error", "u.py::a": "passed"})
    assert collection_refusal(before, run({"t.py::a": "passed", "u.py::a": "passed"})) is None
    lost_setup = run({"t.py::a": "error"})
    assert collection_refusal(lost_setup, run({})) is not None


def test_long_lists_are_shortened() -> None:
    before = run({f"t.py::t{n}": "passed" for n in range(8)})
    reason = collection_refusal(before, run({}))
    assert reason is not None and reason.endswith("t.py::t4 and 3 more")


@pytest.fixture(scope="module")
def repo_and_baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workbench, Baseline]:
    builder = RepoBuilder(tmp_path_factory.mktemp("project"))
    rev = builder.commit(
        {"app/__init__.py": "", "app/calc.py": CALC, "tests/test_calc.py": TESTS}, "calc"
    )
    sandbox: Sandbox = make_sandbox("auto", sys.executable, FAST, 20, 2048)
    bench = Workbench(GitRepo(builder.path), sandbox, tmp_path_factory.mktemp("work"))
    return bench, run_baseline(bench, rev, None)


def candidate(tests_after: str) -> Patch:
    files = [
        FileChange(path="app/calc.py", before=CALC, after=FIXED),
        FileChange(path="tests/test_calc.py", before=TESTS, after=tests_after),
    ]
    return make_patch("test", "candidate", "written by the test", files)


@pytest.mark.parametrize(
    ("tests_after", "words"),
    [
        (
            TESTS.replace("def test_single", '@getattr(pytest.mark, "sk" + "ip")\ndef test_single'),
            "skips 3 more tests",
        ),
        (TESTS.replace("[1, 2, 3]", "[1, 2]"), "no longer collects 1 tests: tests/test_calc.py"),
        (
            TESTS.replace(
                "def test_halves", '@getattr(pytest.mark, "x" + "fail")\ndef test_halves'
            ),
            "skips 1 more tests: tests/test_calc.py::test_halves",
        ),
    ],
    ids=["computed skip marker", "shorter parametrization", "computed xfail of a failing test"],
)
def test_weakenings_the_policy_misses_are_refused_by_the_proof(
    repo_and_baseline: tuple[Workbench, Baseline], tests_after: str, words: str
) -> None:
    bench, baseline = repo_and_baseline
    assert baseline.suite.outcomes["tests/test_calc.py::test_single[3]"] == "passed"
    assert baseline.suite.outcomes["tests/test_calc.py::test_halves"] == "failed"
    patch = candidate(tests_after)
    assert check(patch, Policy()).allowed  # the static policy sees nothing wrong
    report = prove(bench, patch, baseline, MUST_FIX, None)
    assert not report.proven
    assert words in report.reason, report.reason


def test_a_real_fix_is_still_proven(repo_and_baseline: tuple[Workbench, Baseline]) -> None:
    bench, baseline = repo_and_baseline
    more = TESTS + "\n\ndef test_two():\n    assert average([1, 3]) == 2\n"
    report = prove(bench, candidate(more), baseline, MUST_FIX, None)
    assert report.proven, report.reason
