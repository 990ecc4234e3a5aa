"""`fixloop demo` then `fixloop review --merge`, as a new user runs them."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import fixloop, fixloop_json
from tests.support.repo_builder import git

pytestmark = pytest.mark.slow


def _function_span(source: str, name: str) -> tuple[int, int]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            assert node.end_lineno is not None
            return node.lineno, node.end_lineno
    raise AssertionError(f"no function {name}")


def _changed_lines(diff: str) -> tuple[set[int], set[int]]:
    """Old line numbers removed and new line numbers added by a one-file unified diff."""
    removed: set[int] = set()
    added: set[int] = set()
    old = new = 0
    for line in diff.splitlines():
        hunk = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
        if hunk:
            old, new = int(hunk[1]), int(hunk[2])
        elif line.startswith(("---", "+++", "diff ", "index ")):
            continue
        elif line.startswith("-"):
            removed.add(old)
            old += 1
        elif line.startswith("+"):
            added.add(new)
            new += 1
        else:
            old += 1
            new += 1
    return removed, added


def _pytest(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def test_demo_reaches_a_proven_pr_then_merge_closes_it(tmp_path: Path) -> None:
    home = tmp_path / "state"
    summary = fixloop_json(home, "demo", "--workdir", str(tmp_path / "work"))

    assert summary["status"] == "awaiting_review"
    repo = Path(summary["repo"])
    pr = summary["pr"]
    assert git(repo, "rev-parse", pr["branch"]) == pr["head_sha"]
    assert summary["ticket"]["key"] == "FIX-1"
    assert summary["diagnosis"]["suspects"][0]["symbol"] == "average_basket"

    changed = git(repo, "diff", "--name-only", f"main...{pr['branch']}").splitlines()
    assert changed == ["app/reports.py", "tests/test_average_basket_zero_division_error.py"]
    diff = git(repo, "diff", f"main...{pr['branch']}", "--", "app/reports.py")
    removed, added = _changed_lines(diff)
    old_span = _function_span(git(repo, "show", "main:app/reports.py"), "average_basket")
    new_span = _function_span(git(repo, "show", f"{pr['branch']}:app/reports.py"), "average_basket")
    assert added and all(new_span[0] <= n <= new_span[1] for n in added)
    assert all(old_span[0] <= n <= old_span[1] for n in removed)

    reproduction = summary["diagnosis"]["reproduction"]
    assert reproduction["reproduced"] is True
    (repo / reproduction["filename"]).write_text(reproduction["source"])
    on_main = _pytest(repo, reproduction["nodeid"])
    assert on_main.returncode == 1 and "ZeroDivisionError" in on_main.stdout
    git(repo, "checkout", "-q", pr["branch"])
    assert _pytest(repo, reproduction["nodeid"]).returncode == 0
    suite = _pytest(repo, "tests")
    assert suite.returncode == 0, suite.stdout
    git(repo, "checkout", "-q", "main")
    (repo / reproduction["filename"]).unlink()
    _the_regression_test_fails_on_main_and_passes_on_the_branch(repo, pr["branch"])

    review = fixloop(home, "review", str(pr["id"]), "--merge", "--comment", "thanks")
    assert review.returncode == 0, review.stderr
    assert "status: closed" in review.stdout

    status = fixloop_json(home, "status", summary["incident"])
    assert status["status"] == "closed"
    assert status["verification"]["verified"] is True
    assert status["ticket"]["status"] == "closed"
    assert f"Resolved by pull request #{pr['id']}" in status["ticket"]["resolution"]
    nodes = [entry["node"] for entry in status["audit"]]
    assert nodes[-4:] == ["await_review", "find_release", "verify", "close"]


def _the_regression_test_fails_on_main_and_passes_on_the_branch(repo: Path, branch: str) -> None:
    path = "tests/test_average_basket_zero_division_error.py"
    test = git(repo, "show", f"{branch}:{path}")
    assert "def test_average_basket_does_not_raise_zero_division_error():" in test
    assert "Reproduction of incident" not in test and "test_fixloop_repro" not in test
    (repo / path).write_text(test + "\n")
    on_main = _pytest(repo, path)
    assert on_main.returncode == 1 and "ZeroDivisionError" in on_main.stdout
    (repo / path).unlink()
    git(repo, "checkout", "-q", branch)
    on_branch = _pytest(repo, path)
    assert on_branch.returncode == 0 and "1 passed" in on_branch.stdout, on_branch.stdout
    git(repo, "checkout", "-q", "main")


def test_demo_prints_each_step_and_the_review_command(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "state", "demo", "--workdir", str(tmp_path / "work"))
    assert result.returncode == 0, result.stderr
    for step in ("[1/4]", "[2/4]", "[3/4]", "[4/4]"):
        assert step in result.stdout
    assert re.search(r"(fixloop|-m agent\.service\.cli) review \d+ --merge", result.stdout)
