"""The PR ships the reproduction as a regression test, and only evidence above the bar opens one.

A real sentry-sdk event of a crash whose frame captured a customer's name, run through the whole
graph with the template engine: the proven fix's PR adds the reproduction under the repository's
tests folder, named for the function and the exception, with the name replaced by its stand-in
(the test fails like the incident without it); the setting turns the test off; and a bar the
evidence does not clear escalates with the proven fix as a suggestion on the ticket, no PR.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder, git
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event
from tools.git_repo import GitRepo

pytestmark = pytest.mark.slow

VISITS = """\
def visits_per_day(name, email, visits, days):
    label = f"{name} <{email}>"
    return label, visits // days
"""
SUITE = """\
from lib.visits import visits_per_day


def test_visits_per_day():
    assert visits_per_day("A", "a", 10, 2)[1] == 5
"""
REGRESSION = "tests/test_visits_per_day_zero_division_error.py"


def run(tmp_path: Path, **settings: Any) -> tuple[dict[str, Any], Settings, Path]:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(
        {"lib/__init__.py": "", "lib/visits.py": VISITS, "tests/test_visits.py": SUITE}, "visits"
    )
    payload = sentry_event(
        builder.path,
        "from lib.visits import visits_per_day",
        "visits_per_day('Alice Smith', 'alice@shop.example', 10, 0)",
    )
    config = Settings(home=tmp_path / "state", pytest_args=FAST, test_timeout=120, **settings)
    summary = runner.run_incident(config, builder.path, parse_payload(payload), payload)
    return summary, config, builder.path


def _pytest(repo: Path, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST, path],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def test_the_pr_adds_the_reproduction_as_a_scrubbed_regression_test(tmp_path: Path) -> None:
    summary, settings, repo = run(tmp_path)
    assert summary["status"] == "awaiting_review"
    branch = summary["pr"]["branch"]
    changed = git(repo, "diff", "--name-only", f"main...{branch}").splitlines()
    assert changed == ["lib/visits.py", REGRESSION]
    test = git(repo, "show", f"{branch}:{REGRESSION}")
    assert "def test_visits_per_day_does_not_raise_zero_division_error():" in test
    assert "Alice" not in test and "alice@shop.example" not in test
    assert "'Xxxxx Xxxxx'" in test
    # Fails on main like the incident, passes on the branch.
    (repo / REGRESSION).write_text(test + "\n")
    on_main = _pytest(repo, REGRESSION)
    assert on_main.returncode == 1 and "ZeroDivisionError" in on_main.stdout
    (repo / REGRESSION).unlink()
    git(repo, "checkout", "-q", branch)
    assert _pytest(repo, REGRESSION).returncode == 0

    entry = next(e for e in summary["audit"] if e["node"] == "test")
    assert f"clears the evidence bar; regression test {REGRESSION}" in entry["decided"]
    assert "1 captured value(s) replaced by stand-ins" in entry["decided"]
    shipped = entry["data"]["regression"]
    assert (shipped["before"], shipped["after"], shipped["masked"]) == ("failed", "passed", 1)
    body = wiring.forge(settings, GitRepo(repo)).get_pr(summary["pr"]["id"]).body
    assert f"Regression test `{REGRESSION}` (added by this PR" in body


def test_the_setting_leaves_the_regression_test_out(tmp_path: Path) -> None:
    summary, _, repo = run(tmp_path, regression_test=False)
    assert summary["status"] == "awaiting_review"
    branch = summary["pr"]["branch"]
    assert git(repo, "diff", "--name-only", f"main...{branch}") == "lib/visits.py"


def test_below_the_evidence_bar_the_proven_fix_is_a_suggestion(tmp_path: Path) -> None:
    summary, settings, repo = run(tmp_path, pr_min_confidence=1.0)
    assert summary["status"] == "escalated"
    assert summary.get("pr") is None
    assert "open_pr" not in [entry["node"] for entry in summary["audit"]]
    abstain = next(e for e in summary["audit"] if e["node"] == "test")
    assert "abstain: below the evidence bar for a PR" in abstain["decided"]
    assert "(pr_min_confidence)" in abstain["decided"]
    assert abstain["data"]["evidence"]["proof"] == "reproduction"
    escalation = summary["audit"][-1]
    assert escalation["why"].startswith("a candidate is proven, but the evidence is below the bar")
    comments = wiring.tracker(settings).comments(summary["ticket"]["key"])
    assert "### Suggested change: proven, below the bar for a pull request" in comments[-1]
    assert "+    if " in comments[-1]
    assert git(repo, "branch", "--list", "fixloop/*") == ""
