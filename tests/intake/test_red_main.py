"""The tests a red commit broke, found by running its suite and its parent's in the sandbox."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.errors import RunError
from agent.intake.red_main import find_broken_tests
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

PRICES = """\
def price(cents):
    return cents / 100
"""

PRICE_TESTS = """\
from prices import price


def test_price_in_euros():
    assert price(250) == 2.5


def test_long_broken():
    assert price(1) == 1
"""

WARM_TEST = """\
from pathlib import Path


def test_cache_warms_up():
    marker = Path(__file__).with_name(".warm")
    if not marker.exists():
        marker.write_text("warm")
        raise AssertionError("cold cache")
"""


def _bench(path: Path, timeout: float = 60) -> Workbench:
    sandbox = make_sandbox("auto", sys.executable, FAST, timeout, 2048)
    return Workbench(GitRepo(path), sandbox, path.parent / "scratch")


@pytest.fixture
def red(tmp_path: Path) -> tuple[Path, str]:
    """Parent: one test already failing, the others pass. The red commit breaks `price`,
    makes one test flaky (fails until a file exists in the worktree) and adds a failing test."""
    builder = RepoBuilder(tmp_path / "prices")
    builder.commit(
        {
            "prices.py": PRICES,
            "tests/test_prices.py": PRICE_TESTS,
            "tests/test_cache.py": "def test_cache_warms_up():\n    pass\n",
        },
        "Prices",
    )
    sha = builder.commit(
        {
            "prices.py": PRICES.replace("cents / 100", "cents // 100"),
            "tests/test_cache.py": WARM_TEST,
            "tests/test_new.py": "def test_not_done_yet():\n    assert False\n",
        },
        "Integer prices",
    )
    return builder.path, sha


def test_only_tests_that_passed_on_the_parent_are_kept_and_a_rerun_tells_flaky_ones(
    red: tuple[Path, str],
) -> None:
    path, sha = red
    found = find_broken_tests(_bench(path), sha)

    assert found.commit == sha and found.parent == GitRepo(path).head(f"{sha}^")
    assert found.broken == ["tests/test_prices.py::test_price_in_euros"]
    assert found.flaky == ["tests/test_cache.py::test_cache_warms_up"]
    assert found.failed_before == [
        "tests/test_new.py::test_not_done_yet",
        "tests/test_prices.py::test_long_broken",
    ]
    assert found.suite_size == 4
    assert "1 broken by it, 1 flaky" in found.summary()
    assert not (path / "tests" / ".warm").exists(), "the checkout itself is never written"


def test_a_green_commit_breaks_nothing(red: tuple[Path, str]) -> None:
    path, sha = red
    parent = GitRepo(path).head(f"{sha}^")

    found = find_broken_tests(_bench(path), parent)

    assert found.broken == found.flaky == []
    assert found.failed_before == ["tests/test_prices.py::test_long_broken"]
    assert found.parent is None


def test_a_suite_that_times_out_is_an_error_not_a_list(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "slow")
    sha = builder.commit(
        {"tests/test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(30)\n"}, "Slow"
    )
    with pytest.raises(RunError, match="timed out"):
        find_broken_tests(_bench(builder.path, timeout=2), sha)
