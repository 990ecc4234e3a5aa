"""Validation of ranked candidates in the real sandbox: the screen, the early stop, the budget,
and the overfitting guard (a candidate that fixes the failing test but breaks another)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.domain import FileChange, Patch
from agent.ports import Sandbox
from agent.proof.prove import Baseline, run_baseline
from agent.proof.search import Search, validate
from agent.proof.workbench import Workbench
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

PRICING = """def shipping_cents(subtotal):
    if subtotal > 5000:
        return 0
    return 490
"""
TESTS = """from shop.pricing import shipping_cents


def test_free_from_fifty_euros():
    assert shipping_cents(5000) == 0


def test_small_orders_pay():
    assert shipping_cents(100) == 490


def test_big_orders_are_free():
    assert shipping_cents(9000) == 0
"""
FAILING = "tests/test_pricing.py::test_free_from_fifty_euros"

Project = tuple[GitRepo, str]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    builder = RepoBuilder(tmp_path_factory.mktemp("shop"))
    rev = builder.commit(
        {"shop/__init__.py": "", "shop/pricing.py": PRICING, "tests/test_pricing.py": TESTS},
        "shop with a wrong comparison",
    )
    return GitRepo(builder.path), rev


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


@pytest.fixture(scope="module")
def baseline(
    project: Project, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Baseline:
    repo, rev = project
    return run_baseline(Workbench(repo, sandbox, tmp_path_factory.mktemp("work")), rev, None)


def variant(old: str, new: str) -> Patch:
    change = FileChange(path="shop/pricing.py", before=PRICING, after=PRICING.replace(old, new))
    return make_patch("mutations", f"{old} -> {new}", "", [change])


WRONG = variant("return 490", "return 491")  # the failing test still fails
OVERFIT = variant("if subtotal > 5000:", "if subtotal == 5000:")  # fixes it, breaks another
RIGHT = variant("if subtotal > 5000:", "if subtotal >= 5000:")
ALSO_RIGHT = variant("if subtotal > 5000:", "if subtotal > 4999:")


def run(
    project: Project,
    sandbox: Sandbox,
    baseline: Baseline,
    candidates: list[Patch],
    tmp_path: Path,
    search: Search,
) -> tuple[list[str], Patch | None, list[str]]:
    repo, _ = project
    bench = Workbench(repo, sandbox, tmp_path)
    reports, proven = validate(bench, candidates, baseline, [FAILING], None, search)
    return [r.candidate_id for r in reports], proven, [r.reason for r in reports]


def test_the_best_ranked_proven_candidate_wins_and_the_rest_is_not_tested(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    candidates = [WRONG, OVERFIT, RIGHT, ALSO_RIGHT]
    ids, proven, reasons = run(project, sandbox, baseline, candidates, tmp_path, Search(jobs=1))
    assert proven == RIGHT
    assert ids == [WRONG.id, OVERFIT.id, RIGHT.id], "early stop: ALSO_RIGHT is never tested"
    assert reasons[0] == f"screen: not proven: with the patch {FAILING} failed"
    assert "regressions (passed before, fail after)" in reasons[1], "overfitting is refused"
    assert "test_big_orders_are_free" in reasons[1]
    assert reasons[2].endswith("no regressions among the 2 tests that passed before")
    assert not list(tmp_path.iterdir()), "every worktree is removed"


def test_parallel_validation_keeps_the_rank_order(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    candidates = [WRONG, ALSO_RIGHT, RIGHT]
    ids, proven, _ = run(project, sandbox, baseline, candidates, tmp_path, Search(jobs=2))
    assert proven == ALSO_RIGHT
    assert ids[:2] == [WRONG.id, ALSO_RIGHT.id]


def test_a_spent_budget_is_reported(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    ids, proven, reasons = run(
        project, sandbox, baseline, [WRONG, RIGHT], tmp_path, Search(seconds=0)
    )
    assert proven is None
    assert ids == ["(search budget)"]
    assert reasons == ["2 candidates not tested: the search budget of 0s was spent"]


def test_each_report_says_where_it_was_decided(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    bench = Workbench(project[0], sandbox, tmp_path)
    reports, _ = validate(bench, [WRONG, RIGHT], baseline, [FAILING], None, Search(jobs=1))
    assert [r.stage for r in reports] == ["screen", "proof"]
    spent, _ = validate(bench, [WRONG], baseline, [FAILING], None, Search(seconds=0))
    assert [r.stage for r in spent] == ["budget"]


def test_without_a_must_fix_test_nothing_is_proven_and_the_best_holding_candidate_stops_it(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path
) -> None:
    # No must-fix test: FAILING fails on the base commit, but nobody named it.
    holds = variant("return 490", "return 490  # shipping")
    repo, _ = project
    reports, proven = validate(
        Workbench(repo, sandbox, tmp_path),
        [OVERFIT, holds, RIGHT],
        baseline,
        [],
        None,
        Search(jobs=1),
    )
    assert proven is None
    assert [(r.candidate_id, r.proven, r.held) for r in reports] == [
        (OVERFIT.id, False, False),
        (holds.id, False, True),
    ], "the search stops at the best candidate that holds; no budget report"


FORGING = variant(
    "if subtotal > 5000:",
    "import atexit, os\n    atexit.register(os._exit, 0)\n    if subtotal > 5000:",
)  # its tests still fail, then it ends pytest with exit code 0


@pytest.mark.parametrize("screen", [True, False])
def test_a_candidate_whose_tests_forge_their_outcome_is_a_verdict_not_an_error(
    project: Project, sandbox: Sandbox, baseline: Baseline, tmp_path: Path, screen: bool
) -> None:
    bench = Workbench(project[0], sandbox, tmp_path)
    search = Search(jobs=1, screen=screen)
    reports, proven = validate(bench, [FORGING, RIGHT], baseline, [FAILING], None, search)
    assert proven == RIGHT
    forged = reports[0]
    assert forged.candidate_id == FORGING.id and not forged.proven and forged.untrusted
    assert forged.stage == ("screen" if screen else "proof")
    assert "cannot be trusted" in forged.reason and "exited with 0" in forged.reason
    assert not list(tmp_path.iterdir()), "every worktree is removed"
