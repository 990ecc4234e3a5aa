"""A reported failing test that crashes stays in the proof: a guard that silences the crash
with the wrong value is never proven (issue #18: the growth example)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder, git

pytestmark = pytest.mark.slow

METRICS = '''\
def growth(before: float, after: float) -> float:
    """How many times `after` exceeds `before`, minus one; from nothing, growth is infinite."""
    return (after - before) / before
'''

METRICS_TESTS = """\
from metrics import growth


def test_growth_doubles():
    assert growth(2, 4) == 1.0


def test_growth_from_zero_is_infinite():
    assert growth(0, 3) == float("inf")
"""

REPORTED = "tests/test_metrics.py::test_growth_from_zero_is_infinite"


def _metrics_repo(path: Path) -> Path:
    builder = RepoBuilder(path)
    builder.commit({"README.md": "metrics\n"}, "Initial commit")
    builder.commit({"metrics.py": METRICS, "tests/test_metrics.py": METRICS_TESTS}, "Growth")
    return builder.path


def test_a_guard_returning_the_wrong_value_is_not_proven(
    settings: Settings, tmp_path: Path
) -> None:
    repo = _metrics_repo(tmp_path / "metrics")
    payload = {"kind": "test_failure", "tests": [REPORTED]}

    summary = runner.run_incident(settings, repo, parse_payload(payload), payload)

    state = runner.incident_state(settings, summary["incident"])
    assert REPORTED in state["must_fix"], state["must_fix"]
    reproduction = (state["diagnosis"] or {}).get("reproduction") or {}
    if reproduction.get("reproduced"):
        assert reproduction["nodeid"] in state["must_fix"]
    for report in state["reports"]:
        if "return 0.0" in next(
            (c["diff"] for c in state.get("candidates", []) if c["id"] == report["candidate_id"]),
            "",
        ):
            assert not report["proven"], report["reason"]
    if summary["pr"] is None:
        assert summary["status"] in ("no_fix_found", "escalated"), summary["status"]
        comments = wiring.tracker(settings).comments(summary["ticket"]["key"])
        assert any(REPORTED in comment for comment in comments)
        return
    # A PR was opened: on its branch the reported test passes, and the body names it.
    assert REPORTED in summary["pr"]["body"]
    git(repo, "checkout", "-q", summary["pr"]["branch"])
    run = subprocess.run(
        [settings.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", REPORTED],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout
